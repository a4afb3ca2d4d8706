/* newsmirror offline search. The tokens follow newsmirror/publish/sitesearch.py exactly:
   NFKC + lower case + Traditional characters folded to Simplified (the table comes with
   the index, search/fold.js); a CJK run of two or more characters gives its overlapping
   bigrams, a lone CJK character itself; other runs of letters and digits are words. Index
   files are loaded as scripts (search/…js), which also works for a site opened from disk.
   An archive with yearly shards: each shard's site indexes its own articles, and meta.js
   names them ("parts", newest first); their files are loaded from their sites, keyed
   "<YEAR>:<key>", and asked as this site's are. Only this page uses JavaScript. */
(function () {
  "use strict";

  var CJK = "\u1100-\u11ff\u3007\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf" +
            "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u{20000}-\u{2fa1f}";
  var MAX_WORD = 40;
  var PAGE = 50;
  var RANK_LIMIT = 400;  /* candidates whose title/snippet are checked for the whole phrase */

  var received = {};
  var loading = {};
  var fold = new Map();  /* traditional -> simplified, filled from search/fold.js */
  window.newsmirrorSearch = function (key, data) { received[key] = data; };

  function setFold(data) {
    if (!data) return;
    var from = Array.from(data.from), to = Array.from(data.to);
    for (var i = 0; i < from.length && i < to.length; i++) fold.set(from[i], to[i]);
  }

  /* Lower case and folded; every pair in the table keeps its UTF-16 length, so the
     offsets that highlighting finds in the folded text hold in the original. */
  function folded(text) {
    return Array.from(text.toLowerCase(), function (ch) { return fold.get(ch) || ch; }).join("");
  }

  function normalise(text) {
    return folded(text.normalize("NFKC"));
  }

  function tokens(text) {
    var pattern = new RegExp("([" + CJK + "]+)|((?:(?![" + CJK + "])[\\p{L}\\p{N}])+)", "gu");
    var found = new Set();
    var match;
    while ((match = pattern.exec(normalise(text))) !== null) {
      var chars = Array.from(match[0]);
      if (match[1] && chars.length > 1) {
        for (var i = 0; i + 1 < chars.length; i++) found.add(chars[i] + chars[i + 1]);
      } else {
        found.add(chars.slice(0, MAX_WORD).join(""));
      }
    }
    return Array.from(found);
  }

  function shardOf(token, shards) {
    var bytes = new TextEncoder().encode(token);
    var hash = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      hash ^= bytes[i];
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % shards;
  }

  var HERE = { prefix: "", base: "" };  /* this site's own index */

  function load(key, part) {
    part = part || HERE;
    var name = part.prefix + key;
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = part.base + "search/" + key + ".js";
        script.onload = function () { resolve(received[name] || null); };
        script.onerror = function () { resolve(null); };  /* no file: nothing there */
        document.head.appendChild(script);
      });
    }
    return loading[name];
  }

  function hex2(n) { return (n < 16 ? "0" : "") + n.toString(16); }

  function idsOf(token, meta, part) {
    var name = hex2(shardOf(token, meta.shards));
    var segments = [];
    for (var s = 0; s < meta.segments; s++) segments.push(load(s + "/" + name, part));
    return Promise.all(segments).then(function (shards) {
      var ids = [];
      shards.forEach(function (shard) {
        var gaps = shard && Object.prototype.hasOwnProperty.call(shard, token) ? shard[token] : [];
        var total = 0;
        gaps.forEach(function (gap) { total += gap; ids.push(total); });
      });
      return ids;
    });
  }

  function intersect(lists) {
    lists.sort(function (a, b) { return a.length - b.length; });
    var result = lists[0];
    for (var i = 1; i < lists.length && result.length; i++) {
      var other = new Set(lists[i]);
      result = result.filter(function (id) { return other.has(id); });
    }
    return result.sort(function (a, b) { return b - a; });  /* newer ids first */
  }

  /* The records of `hits` ({part, id}), in their order; a link relative to a shard's
     site is made absolute. */
  function records(hits) {
    var wanted = {};
    hits.forEach(function (hit) {
      wanted[hit.part.prefix + "docs/" + Math.floor(hit.id / hit.part.meta.chunk)] = hit;
    });
    return Promise.all(Object.keys(wanted).map(function (name) {
      var hit = wanted[name];
      return load("docs/" + Math.floor(hit.id / hit.part.meta.chunk), hit.part);
    })).then(function () {
      return hits.map(function (hit) {
        var chunk = received[hit.part.prefix + "docs/" + Math.floor(hit.id / hit.part.meta.chunk)] || {};
        var doc = chunk[hit.id];
        if (!doc) return null;
        if (hit.part.base && !/^[a-z][a-z0-9+.-]*:/i.test(doc[1])) {
          doc = doc.slice();
          doc[1] = hit.part.base + doc[1];
        }
        return { id: hit.id, doc: doc };
      }).filter(Boolean);
    });
  }

  /* Every index to ask: the shards' sites (newest first), then this site's own. */
  function parts(meta) {
    var others = (meta.parts || []).map(function (p) {
      return { prefix: p.year + ":", base: p.url };
    });
    return Promise.all(others.map(function (part) { return load("meta", part); })).then(function (metas) {
      var found = [];
      others.forEach(function (part, i) { if (metas[i]) { part.meta = metas[i]; found.push(part); } });
      HERE.meta = meta;
      found.push(HERE);
      return { parts: found, missing: others.length + 1 - found.length };
    });
  }

  /* The hits ({part, id}) holding every token: each part's newer ids first. */
  function hitsOf(wanted, known) {
    return Promise.all(known.map(function (part) {
      return Promise.all(wanted.map(function (t) { return idsOf(t, part.meta, part); })).then(function (lists) {
        return intersect(lists).map(function (id) { return { part: part, id: id }; });
      });
    })).then(function (each) { return [].concat.apply([], each); });
  }

  /* Text with every occurrence of the query's terms wrapped in <mark>, built as DOM nodes. */
  function highlighted(text, terms) {
    var fragment = document.createDocumentFragment();
    var lower = folded(text);
    var pos = 0;
    while (pos < text.length) {
      var best = -1, length = 0;
      terms.forEach(function (term) {
        var at = lower.indexOf(term, pos);
        if (at >= 0 && (best < 0 || at < best)) { best = at; length = term.length; }
      });
      if (best < 0) break;
      fragment.appendChild(document.createTextNode(text.slice(pos, best)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(best, best + length);
      fragment.appendChild(mark);
      pos = best + length;
    }
    fragment.appendChild(document.createTextNode(text.slice(pos)));
    return fragment;
  }

  function render(list, items, terms, meta) {
    items.forEach(function (item) {
      var doc = item.doc;  /* [title, href, slug, date, snippet] */
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = doc[1];
      a.appendChild(highlighted(doc[0], terms));
      var info = document.createElement("span");
      info.className = "meta";
      info.textContent = (meta.sources[doc[2]] || doc[2]) + " · " + doc[3];
      var snippet = document.createElement("p");
      snippet.className = "snippet";
      snippet.appendChild(highlighted(doc[4], terms));
      li.appendChild(a);
      li.appendChild(info);
      li.appendChild(snippet);
      list.appendChild(li);
    });
  }

  function say(status, text) {
    status.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    status.appendChild(p);
  }

  function search(query, ui) {
    say(ui.status, "正在搜索……");
    Promise.all([load("meta"), load("fold")]).then(function (loaded) {
      var meta = loaded[0];
      setFold(loaded[1]);
      var wanted = tokens(query);
      if (!wanted.length) {
        say(ui.status, "请输入至少一个汉字，或一个完整的英文单词或数字。");
        return;
      }
      var phrase = normalise(query).replace(/\s+/g, " ").trim();
      var terms = folded(query).split(/\s+/).filter(Boolean);
      if (!meta) {
        say(ui.status, "找不到搜索索引（search/meta.js）。请重新生成网站。");
        return;
      }
      parts(meta).then(function (known) {
        return hitsOf(wanted, known.parts).then(function (ids) { return { ids: ids, missing: known.missing }; });
      }).then(function (got) {
        var ids = got.ids;
        var missing = got.missing ? "（有 " + got.missing + " 个分卷的网站暂时无法访问，其中的文章未能搜索）" : "";
        if (!ids.length) {
          say(ui.status, "没有找到包含“" + query + "”的文章。" + missing);
          return;
        }
        /* Put first the candidates whose title or snippet hold the query as typed. */
        records(ids.slice(0, RANK_LIMIT)).then(function (found) {
          var exact = [], others = [];
          found.forEach(function (item) {
            var text = normalise(item.doc[0] + " " + item.doc[4]).replace(/\s+/g, " ");
            (text.indexOf(phrase) >= 0 ? exact : others).push(item);
          });
          var ranked = exact.concat(others);
          var rest = ids.slice(RANK_LIMIT);
          say(ui.status, "找到 " + ids.length + " 篇包含“" + query + "”的文章（新的在前）。" + missing);
          var shown = 0;
          function more() {
            if (shown < ranked.length) {
              var batch = ranked.slice(shown, shown + PAGE);
              shown += batch.length;
              render(ui.list, batch, terms, meta);
              ui.moreWrap.hidden = shown >= ranked.length && !rest.length;
            } else if (rest.length) {
              records(rest.splice(0, PAGE)).then(function (items) {
                ranked = ranked.concat(items);
                shown += items.length;
                render(ui.list, items, terms, meta);
                ui.moreWrap.hidden = !rest.length;
              });
            }
          }
          ui.more.onclick = more;
          more();
        });
      });
    });
  }

  function start() {
    var ui = {
      form: document.getElementById("search-form"),
      input: document.getElementById("search-query"),
      status: document.getElementById("search-status"),
      list: document.getElementById("search-results"),
      more: document.getElementById("search-more"),
      moreWrap: document.getElementById("search-more-wrap"),
    };
    if (!ui.form) return;
    var query = (new URLSearchParams(window.location.search).get("q") || "").trim();
    ui.input.value = query;
    if (query) {
      document.title = query + " · " + document.title;
      search(query, ui);
    } else {
      say(ui.status, "在全部文章的标题和正文中搜索，简体繁体都能找到。例如输入“会晤”“台湾”或“臺灣”。");
      ui.input.focus();
    }
  }

  start();
})();
