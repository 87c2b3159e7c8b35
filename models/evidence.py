"""音像记录 and generated documents as files: stored by their SHA-256, never overwritten.

A file lives at <store>/sha256/ab/cdef… (the hex digest split after two characters). The same bytes
always land at the same path, so storing twice is harmless and a changed file can no longer pretend to
be the recorded one: `verify` rehashes each file the log names.
"""
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

# Leading bytes of the formats the bureau's devices produce (执法记录仪, cameras, phones, scanners).
MAGIC = {
    "image/jpeg": [b"\xff\xd8\xff"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "video/mp4": [b"ftyp"],  # at offset 4
    "video/quicktime": [b"ftyp", b"moov", b"wide"],  # at offset 4
    "audio/mpeg": [b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"],
    "audio/mp4": [b"ftyp"],  # at offset 4
    "audio/wav": [b"RIFF"],
    "application/pdf": [b"%PDF-"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [b"PK\x03\x04"],
}
OFFSET_4 = {"video/mp4", "video/quicktime", "audio/mp4"}


class EvidenceError(ValueError):
    """A file that may not be stored; the message is Chinese and says why."""


def media_kind(mime):
    """照片 / 音频 / 视频 / 文书 — what the 音像记录事项清单 asks for."""
    return {"image": "photo", "audio": "audio", "video": "video"}.get(mime.split("/")[0], "document")


class EvidenceStore:
    def __init__(self, root, max_bytes, types):
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.types = {ext.lower().lstrip("."): mime for ext, mime in types.items()}

    @classmethod
    def from_config(cls, config):
        from models.treehead import resolve

        section = config["evidence"]
        return cls(resolve(section["store_path"]), section["max_file_bytes"], section["types"])

    def path_for(self, digest):
        return self.root / "sha256" / digest[:2] / digest[2:]

    def mime_for(self, filename, head):
        ext = Path(filename).suffix.lower().lstrip(".")
        mime = self.types.get(ext)
        if mime is None:
            allowed = "、".join(sorted(self.types))
            raise EvidenceError(f"不支持的文件类型“.{ext}”：可以登记的类型为 {allowed}。")
        probe = head[4:] if mime in OFFSET_4 else head
        if not any(probe.startswith(m) for m in MAGIC.get(mime, [b""])):
            raise EvidenceError(f"文件“{Path(filename).name}”的内容不是{ext}格式，请检查是否损坏或扩展名有误。")
        return mime

    def put(self, source, filename):
        """Store the file at `source` (a path); return (sha256 hex, size, mime). Nothing is kept on refusal."""
        source = Path(source)
        size = source.stat().st_size
        if size > self.max_bytes:
            raise EvidenceError(f"文件“{filename}”有{size:,}字节，超过上限{self.max_bytes:,}字节，请分段登记或联系管理员。")
        if size == 0:
            raise EvidenceError(f"文件“{filename}”是空文件。")
        with open(source, "rb") as fh:
            mime = self.mime_for(filename, fh.read(16))
        digest = hashlib.sha256()
        self.root.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as src, tempfile.NamedTemporaryFile(dir=self.root, delete=False) as tmp:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                tmp.write(chunk)
        hexdigest = digest.hexdigest()
        target = self.path_for(hexdigest)
        if target.exists():
            os.unlink(tmp.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp.name, 0o444)
            shutil.move(tmp.name, target)
        return hexdigest, size, mime

    def put_bytes(self, data, filename):
        with tempfile.NamedTemporaryFile(suffix=Path(filename).suffix, delete=False) as tmp:
            tmp.write(data)
        try:
            return self.put(tmp.name, filename)
        finally:
            os.unlink(tmp.name)

    def check(self, hexdigest, size):
        """None when the stored file still has its recorded hash; otherwise what is wrong, in Chinese."""
        path = self.path_for(hexdigest)
        if not path.exists():
            return "已不在存储中（文件丢失或被删除）。"
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != hexdigest or path.stat().st_size != size:
            return "内容已改变（哈希与登记时不符）。"
        return None
