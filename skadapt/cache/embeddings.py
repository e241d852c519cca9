"""The embedding cache: each distinct text is encoded once per backbone.

A frozen backbone maps a text to the same vector in every fold, candidate and
refit of a model selection, so ``PretrainedFeaturizer`` looks each text up
before encoding it. Entries are keyed by the backbone's identity (see
:func:`backbone_identity`: name, options, a digest of the weights) and a
digest of the text, so changing anything that changes the output misses.

Two stores, used together: a process-wide in-memory store bounded in bytes
(least recently used rows go first), and optionally a folder on disk that
other processes, later runs and other machines share. joblib's ``Memory``
caches whole function calls, so a new fold (a different list of texts) would
miss it; the per-text lookup is why this is written here.
"""

import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

DEFAULT_MEMORY_BYTES = 512 * 2**20
# A disk cache's bound, unless SKADAPT_CACHE_MAX_BYTES says otherwise: 100,000
# MiniLM rows take 150 MB, so this holds some 6 million texts' features.
DEFAULT_DISK_BYTES = 10 * 2**30
# More shards than this for one backbone are merged into one, so that a long
# search does not leave thousands of small files to list and open.
COMPACT_AT = 32
# A temporary file this old was left by a process killed while writing.
STALE_SECONDS = 3600


def disk_limit():
    """The bound in bytes of every disk cache: ``SKADAPT_CACHE_MAX_BYTES``, else 10 GiB."""
    value = os.environ.get("SKADAPT_CACHE_MAX_BYTES")
    if value is None:
        return DEFAULT_DISK_BYTES
    try:
        limit = int(float(value))
    except ValueError:
        raise ValueError(f"SKADAPT_CACHE_MAX_BYTES must be a number of bytes, got {value!r}.") from None
    if limit <= 0:
        raise ValueError(f"SKADAPT_CACHE_MAX_BYTES must be positive, got {value!r}.")
    return limit


def text_keys(texts):
    """A 128-bit digest per input, as 32-character hex strings.

    Texts are digested as UTF-8; images (numpy arrays, as
    :func:`skadapt.images.load_images` returns them) by shape, type and pixels.
    """
    return [_digest(t) for t in texts]


def _digest(item):
    if isinstance(item, str):
        return hashlib.blake2b(item.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    digest = hashlib.blake2b(f"{item.dtype.str}{item.shape}".encode(), digest_size=16)
    digest.update(np.ascontiguousarray(item).view(np.uint8).reshape(-1))
    return digest.hexdigest()


def backbone_identity(**parts):
    """One key for everything that determines a backbone's output.

    ``parts`` are JSON-serialisable (names, options, a weights digest, the
    skadapt version); the key is their digest.
    """
    blob = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


class MemoryStore:
    """Rows in a dict, least recently used dropped beyond ``max_bytes``.

    One call's rows larger than a quarter of ``max_bytes`` are not kept: they
    would evict everything else and double the memory of a large one-off
    ``transform`` (a disk cache keeps them instead).
    """

    def __init__(self, max_bytes=DEFAULT_MEMORY_BYTES):
        self.max_bytes = max_bytes
        self._rows = OrderedDict()  # (identity, text key) -> read-only float32 row
        self._bytes = 0
        self._lock = threading.Lock()

    def get_many(self, identity, keys):
        found = {}
        with self._lock:
            for key in keys:
                row = self._rows.get((identity, key))
                if row is not None:
                    self._rows.move_to_end((identity, key))
                    found[key] = row
        return found

    def put_many(self, identity, keys, rows):
        if len(keys) and len(keys) * np.asarray(rows[0]).nbytes > self.max_bytes / 4:
            return
        with self._lock:
            for key, row in zip(keys, rows):
                if (identity, key) in self._rows:
                    continue
                row = np.array(row, dtype=np.float32)  # a copy: callers may modify their output
                row.flags.writeable = False
                self._rows[(identity, key)] = row
                self._bytes += row.nbytes
            while self._bytes > self.max_bytes and self._rows:
                _, row = self._rows.popitem(last=False)
                self._bytes -= row.nbytes

    def lacking(self, identity, keys):
        """The ``keys`` this store holds no row for."""
        with self._lock:
            return [k for k in keys if (identity, k) not in self._rows]

    def clear(self):
        with self._lock:
            self._rows.clear()
            self._bytes = 0

    def __len__(self):
        return len(self._rows)


class DiskStore:
    """Rows in a folder, one subfolder per backbone identity.

    Each ``put_many`` writes one ``.npz`` shard (text keys, rows and a
    checksum of both), first to a temporary name and then renamed, so that
    readers in other processes never see half a file. Only an index (text
    key -> shard) is kept in memory; rows are read from their shards when
    needed. A shard whose format or checksum is wrong is reported, deleted and
    its texts recomputed; one that cannot be opened (permissions, I/O) is
    reported and left alone.

    The folder is bounded: beyond ``max_bytes`` the least recently used shards
    (reading one marks it used) are deleted, and more than ``COMPACT_AT``
    shards of one backbone are merged into one. A folder that cannot be
    written (read-only, full) gives one warning and the features stay in
    memory; the fit goes on.
    """

    def __init__(self, folder, max_bytes=None):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._index = {}  # identity -> {text key: shard path}
        self._seen = set()  # shard files already indexed
        self._lock = threading.Lock()
        self._unwritable = False

    def _refresh(self, identity):
        folder = self.folder / identity
        index = self._index.setdefault(identity, {})
        if not folder.is_dir():
            return index
        for path in sorted(folder.glob("*.npz")):
            if path in self._seen:
                continue
            shard = self._read(path)
            if shard is not None:
                self._seen.add(path)
                index.update(dict.fromkeys(shard[0], path))
        return index

    def _forget(self, path):
        self._seen.discard(path)
        for index in self._index.values():
            for key in [k for k, p in index.items() if p == path]:
                del index[key]

    def _read(self, path):
        if not path.exists():  # evicted or merged by this or another process: its rows are gone, not damaged
            self._forget(path)
            return None
        try:
            shard = _read_shard(path)
        except OSError as exc:
            warnings.warn(f"embedding cache file {str(path)!r} cannot be read ({exc}); its texts are encoded again.",
                          RuntimeWarning, stacklevel=5)
            return None
        if shard is None:
            warnings.warn(
                f"embedding cache file {str(path)!r} is corrupt; it was removed and its texts are encoded again.",
                RuntimeWarning,
                stacklevel=5,
            )
            path.unlink(missing_ok=True)
            self._forget(path)
        return shard

    def get_many(self, identity, keys):
        with self._lock:
            index = self._refresh(identity)
            wanted = {}
            for key in keys:
                if key in index:
                    wanted.setdefault(index[key], []).append(key)
            found = {}
            for path, shard_keys in wanted.items():
                shard = self._read(path)  # verified again: the file may have changed since indexing
                if shard is None:
                    continue
                _touch(path)  # recently used: evicted last
                position = {k: i for i, k in enumerate(shard[0])}
                found.update((k, shard[1][position[k]]) for k in shard_keys if k in position)
            return found

    def lacking(self, identity, keys):
        """The ``keys`` that no shard in the folder holds (as far as the index knows)."""
        with self._lock:
            index = self._refresh(identity)
            return [k for k in keys if k not in index]

    def put_many(self, identity, keys, rows):
        if not keys or self._unwritable:
            return
        try:
            path = self._write(self.folder / identity, keys, rows)
        except OSError as exc:  # read-only or full: the rows stay in memory, the work goes on
            self._unwritable = True
            warnings.warn(
                f"the embedding cache folder {str(self.folder)!r} cannot be written ({exc.strerror or exc}); "
                "features are kept in memory only from now on.",
                RuntimeWarning,
                stacklevel=4,
            )
            return
        with self._lock:
            self._seen.add(path)
            self._index.setdefault(identity, {}).update(dict.fromkeys(keys, path))
            try:
                if len(list((self.folder / identity).glob("*.npz"))) > COMPACT_AT:
                    self._compact(identity)
                self._bound()
            except OSError:  # house-keeping only: the rows are written
                pass

    def _write(self, folder, keys, rows):
        folder.mkdir(parents=True, exist_ok=True)
        keys_array = np.asarray(keys, dtype="U32")
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        path = folder / f"{uuid.uuid4().hex}.npz"
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, keys=keys_array, rows=rows, checksum=np.asarray(_checksum(keys_array, rows)))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def _compact(self, identity):
        """Merge one backbone's shards into one (written first, the old ones deleted after)."""
        shards = sorted((self.folder / identity).glob("*.npz"))
        merged = {}
        for path in shards:
            shard = self._read(path)
            if shard is not None:
                merged.update(zip(shard[0], shard[1]))
        if not merged:
            return
        path = self._write(self.folder / identity, list(merged), np.stack(list(merged.values())))
        for old in shards:
            old.unlink(missing_ok=True)
            self._forget(old)
        self._seen.add(path)
        self._index.setdefault(identity, {}).update(dict.fromkeys(merged, path))

    def _bound(self):
        """Delete the least recently used shards while the folder holds more than ``max_bytes``,
        and temporary files left by killed processes."""
        now = time.time()
        for stale in self.folder.glob("*/*.tmp"):
            try:
                if now - stale.stat().st_mtime > STALE_SECONDS:
                    stale.unlink()
            except OSError:
                continue
        if self.max_bytes is None:
            return
        shards = []
        for path in self.folder.glob("*/*.npz"):
            try:
                info = path.stat()
            except OSError:
                continue
            shards.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in shards)
        for _, size, path in sorted(shards, key=lambda s: s[0]):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            self._forget(path)
            total -= size


def _touch(path):
    try:
        os.utime(path)
    except OSError:  # a read-only cache is still read
        pass


def _checksum(keys, rows):
    digest = hashlib.blake2b(digest_size=16)
    digest.update(keys.tobytes())
    digest.update(rows.tobytes())
    return digest.hexdigest()


def _read_shard(path):
    """``(keys, rows)`` from a shard, or ``None`` if it is damaged in any way."""
    try:
        file = open(path, "rb")  # OSError here (permissions, I/O) propagates: the file may be sound
    except FileNotFoundError:
        return None
    try:
        with file, np.load(file, allow_pickle=False) as data:
            keys, rows, checksum = data["keys"], data["rows"], str(data["checksum"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if rows.ndim != 2 or len(keys) != len(rows) or _checksum(keys, rows) != checksum:
        return None
    rows.flags.writeable = False
    return keys.tolist(), rows


MEMORY = MemoryStore()
_disk_stores = {}
_disk_lock = threading.Lock()


def stores_for(cache):
    """The stores a featurizer's ``cache`` parameter asks for (memory first)."""
    if cache is False or cache is None:
        return []
    if cache is True:
        return [MEMORY]
    location = getattr(cache, "location", cache)  # a joblib.Memory, or a folder
    if location is None:  # joblib.Memory(None) caches nothing on disk
        return [MEMORY]
    folder = Path(os.fspath(location)).absolute() / "skadapt-embeddings"
    with _disk_lock:
        store = _disk_stores.setdefault(folder, DiskStore(folder))
        store.max_bytes = disk_limit()
    return [MEMORY, store]


def cached_encode(texts, identity, stores, encode):
    """Rows for ``texts``: looked up in ``stores``, the rest from ``encode``.

    ``encode(list_of_texts)`` returns a float32 ``(n, d)`` array; it is called
    once: with each missing text once, or, when at most 5 % of the rows hit
    and no text repeats, with all of them. New rows go into every store, and
    rows found in one store into the later ones that lack them.
    """
    keys = text_keys(texts)
    found = {}
    for i, store in enumerate(stores):
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        hits = store.get_many(identity, missing) if missing else {}
        for earlier in stores[:i]:  # promote disk hits into memory
            earlier.put_many(identity, list(hits), list(hits.values()))
        # Rows this process already held (a linear probe's, an earlier
        # featurizer's) go to disk too: other processes and later runs read
        # the disk only.
        lacking = store.lacking(identity, list(found)) if found else []
        store.put_many(identity, lacking, [found[k] for k in lacking])
        found.update(hits)
    n_hits = sum(key in found for key in keys)
    if n_hits <= len(keys) // 20 and len(set(keys)) == len(keys):
        # Nearly all new and no repeats: encode every text into one array and
        # return it, rather than assembling a second array of the same size
        # (at most 5 % of the rows are encoded again).
        rows = encode(texts)
        for store in stores:
            store.put_many(identity, keys, rows)
        return rows
    first = {}
    for position, key in enumerate(keys):
        if key not in found:
            first.setdefault(key, position)
    if first:
        new_rows = encode([texts[i] for i in first.values()])
        for store in stores:
            store.put_many(identity, list(first), new_rows)
        found.update(zip(first, new_rows))
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)


def clear_memory():
    """Forget every row held in this process (files on disk stay)."""
    MEMORY.clear()
    with _disk_lock:
        _disk_stores.clear()


def disk_usage(folder):
    """What the disk cache under ``folder`` holds: one dict per backbone identity
    (``identity``, ``shards``, ``rows``, ``bytes``, ``last_used`` as a POSIX time), largest first."""
    root = Path(folder) / "skadapt-embeddings"
    usage = []
    for sub in sorted(p for p in root.glob("*") if p.is_dir()):
        shards, rows, size, last = 0, 0, 0, 0.0
        for path in sub.glob("*.npz"):
            info = path.stat()
            shards, size, last = shards + 1, size + info.st_size, max(last, info.st_mtime)
            with np.load(path, allow_pickle=False) as data:
                rows += len(data["keys"])
        usage.append({"identity": sub.name, "shards": shards, "rows": rows, "bytes": size, "last_used": last})
    return sorted(usage, key=lambda u: -u["bytes"])


def clear_disk(folder):
    """Delete the disk cache under ``folder``; returns the bytes freed."""
    import shutil

    root = Path(folder) / "skadapt-embeddings"
    freed = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
    shutil.rmtree(root, ignore_errors=True)
    with _disk_lock:
        _disk_stores.pop(root.absolute(), None)
    return freed
