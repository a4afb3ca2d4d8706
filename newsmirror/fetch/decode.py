"""Content-Encoding decoding that never produces more than it is asked for.

httpx decodes each network chunk in one call, so 1 KiB of brotli can become 1 GiB in
memory before any size check sees it. Here every decoder hands out its output in
pieces of at most `PIECE` bytes and keeps the rest of its input for later, so the
caller can count the decoded size as it grows and stop at its limit: memory stays at
the limit plus a few pieces, whatever the compression ratio, for nested encodings
(`Content-Encoding: gzip, gzip`) too.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

import brotli

from newsmirror.errors import NewsmirrorError

PIECE = 64 * 1024
"""The most a decoder produces per step."""

MAX_ENCODINGS = 3
"""More stacked encodings than this are refused: no server needs them, and each one
costs a decoder's window (up to 16 MiB for brotli)."""


class DecodeError(NewsmirrorError):
    """The body is not valid data for its Content-Encoding; `str(err)` names the encoding."""


class TooManyEncodingsError(DecodeError):
    """More than `MAX_ENCODINGS` stacked encodings; `str(err)` is the reason."""


class _Stage(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start:start + PIECE]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (concatenated members included), or deflate with or without its zlib header."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._gzip = name in ("gzip", "x-gzip")
        self._head = b""  # deflate: bytes held until the header can be told apart
        self._inflate: zlib._Decompress | None = zlib.decompressobj(31) if self._gzip else None
        self._done = False

    def _start_deflate(self, data: bytes) -> None:
        # RFC 9110 says "deflate" is zlib-wrapped; some servers send raw deflate.
        first, second = data[0], data[1]
        wrapped = first & 0x0F == 8 and (first << 8 | second) % 31 == 0
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._start_deflate(data)
        yield from self._run(data)

    def _run(self, data: bytes) -> Iterator[bytes]:
        assert self._inflate is not None
        while not self._done:
            try:
                out = self._inflate.decompress(data, PIECE)
            except zlib.error as exc:
                raise DecodeError(self.name) from exc
            data = self._inflate.unconsumed_tail
            if out:
                yield out
            if self._inflate.eof:
                rest = self._inflate.unused_data
                if self._gzip and rest.startswith(b"\x1f\x8b"):  # another gzip member
                    self._inflate = zlib.decompressobj(31)
                    data = rest
                    continue
                self._done = True  # anything after the end is ignored, as browsers do
            elif not data and len(out) < PIECE:
                return  # needs more input

    def finish(self) -> Iterator[bytes]:
        if self._inflate is None:
            if self._head:  # one byte of deflate: not a valid stream
                raise DecodeError(self.name)
            return
        yield from self._run(b"")


class _Brotli:
    def __init__(self, name: str) -> None:
        self.name = name
        self._brotli = brotli.Decompressor()

    def _step(self, data: bytes) -> bytes:
        try:
            return self._brotli.process(data, output_buffer_limit=PIECE)
        except brotli.error as exc:
            raise DecodeError(self.name) from exc

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._brotli.is_finished():
            return  # trailing bytes after the end are ignored
        out = self._step(data)
        # Output held back by the limit comes out on calls with no input; an empty
        # answer means the decoder wants more input.
        while out:
            yield out
            if self._brotli.is_finished():
                return
            out = self._step(b"")

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _stage(name: str) -> _Stage:
    if name in ("gzip", "x-gzip", "deflate"):
        return _Zlib(name)
    if name == "br":
        return _Brotli(name)
    # "identity", and labels we never asked for: passed through as they are, as httpx does.
    return _Identity()


class BoundedDecoder:
    """Decode a body sent with `encodings` (the Content-Encoding values, in the order the
    server applied them), yielding pieces of at most `PIECE` bytes.

    Nothing is decoded ahead of the consumer: stop iterating and no more work is done.
    """

    def __init__(self, encodings: Iterable[str]) -> None:
        names = [e.strip().lower() for e in encodings if e.strip()]
        names = [n for n in names if n != "identity"]
        if len(names) > MAX_ENCODINGS:
            raise TooManyEncodingsError(
                f"too many content encodings ({len(names)}, at most {MAX_ENCODINGS})")
        # The last encoding applied is the first one to undo.
        self._stages = [_stage(name) for name in reversed(names)]

    def _through(self, pieces: Iterable[bytes], index: int) -> Iterator[bytes]:
        if index == len(self._stages):
            yield from pieces
            return
        stage = self._stages[index]
        for piece in pieces:
            yield from self._through(stage.feed(piece), index + 1)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces for one more chunk of the body as it came off the wire."""
        yield from self._through((data,), 0)

    def finish(self) -> Iterator[bytes]:
        """The last decoded pieces once the body has ended."""
        for index, stage in enumerate(self._stages):
            yield from self._through(stage.finish(), index + 1)
