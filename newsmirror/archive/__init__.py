"""The archive: article identity, file layout, the files themselves and the catalog cache."""
