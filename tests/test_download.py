"""Download and extraction, end to end, against an HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ser.data.dataset import DatasetError, audit_tree
from ser.data.download import DownloadError, download, ensure_ravdess, extract


class ArchiveServer:
    """Serves ``payload`` at /archive.zip, honouring Range; can cut a response short."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.cut_after: int | None = None  # send only this many bytes, then close
        self.honour_range = True
        self.requests: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.headers.get("Range"))
                start = 0
                if server.honour_range and self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    if start >= len(server.payload):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                else:
                    self.send_response(200)
                body = server.payload[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    body = body[: server.cut_after]
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/archive.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def small_ravdess_zip(members: dict[str, bytes] | None = None) -> bytes:
    """A zip laid out like the official one: Actor_NN/<clip>.wav at the top."""
    if members is None:
        members = {
            f"Actor_{a:02d}/03-01-01-01-01-01-{a:02d}.wav": b"RIFF" + bytes(200) for a in (1, 2)
        }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_download_verifies_and_extracts(tmp_path, monkeypatch):
    monkeypatch.delenv("RAVDESS_DIR", raising=False)
    payload = small_ravdess_zip()
    with ArchiveServer(payload) as server:
        root = ensure_ravdess(url=server.url, md5=md5(payload), raw_dir=tmp_path, progress=False)
    assert root == tmp_path / "Audio_Speech_Actors_01-24"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav")) == [
        "Actor_01/03-01-01-01-01-01-01.wav",
        "Actor_02/03-01-01-01-01-01-02.wav",
    ]
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.extracting"))
    assert len(audit_tree(root).clips) == 2


def test_truncated_download_is_kept_and_resumed(tmp_path):
    payload = small_ravdess_zip() * 3  # any bytes will do for the transfer itself
    target = tmp_path / "archive.zip"
    with ArchiveServer(payload) as server:
        server.cut_after = 100
        with pytest.raises(DownloadError, match="incomplete|interrupted"):
            download(server.url, target, md5=md5(payload), progress=False)
        assert (tmp_path / "archive.zip.part").stat().st_size == 100
        server.cut_after = None
        download(server.url, target, md5=md5(payload), progress=False)
    assert server.requests == [None, "bytes=100-"]
    assert target.read_bytes() == payload


def test_server_without_ranges_restarts_cleanly(tmp_path):
    payload = small_ravdess_zip()
    (tmp_path / "archive.zip.part").write_bytes(b"stale bytes from another file")
    with ArchiveServer(payload) as server:
        server.honour_range = False
        download(server.url, tmp_path / "archive.zip", md5=md5(payload), progress=False)
    assert (tmp_path / "archive.zip").read_bytes() == payload


def test_wrong_checksum_deletes_the_file(tmp_path):
    payload = small_ravdess_zip()
    with ArchiveServer(payload) as server, pytest.raises(DownloadError, match="checksum mismatch"):
        download(server.url, tmp_path / "archive.zip", md5="0" * 32, progress=False)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("member", ["../evil.wav", "/etc/evil.wav", "Actor_01/../../evil.wav"])
def test_malicious_member_paths_are_refused(tmp_path, member):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(
        small_ravdess_zip({"Actor_01/03-01-01-01-01-01-01.wav": b"x", member: b"x"})
    )
    with pytest.raises(DownloadError, match="unsafe archive members") as info:
        extract(archive, tmp_path / "out" / "Audio_Speech_Actors_01-24")
    assert member in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.wav"))
    assert not (tmp_path / "evil.wav").exists()


def test_not_a_zip(tmp_path):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"<html>not found</html>")
    with pytest.raises(DownloadError, match="not a valid zip"):
        extract(archive, tmp_path / "Audio_Speech_Actors_01-24")


def test_unreachable_server_fails_fast_with_alternative(tmp_path, monkeypatch):
    monkeypatch.delenv("RAVDESS_DIR", raising=False)
    with ArchiveServer(b"") as server:
        url = server.url
    # The server is shut down: connection refused.
    with pytest.raises(DownloadError) as info:
        ensure_ravdess(url=url, md5=None, raw_dir=tmp_path, progress=False)
    assert url in str(info.value) and "RAVDESS_DIR" in str(info.value)


def test_ravdess_dir_is_used_in_place(tmp_path, monkeypatch):
    monkeypatch.setenv("RAVDESS_DIR", str(tmp_path))
    assert ensure_ravdess(url="http://127.0.0.1:9/never", raw_dir=tmp_path / "raw") == tmp_path
    assert not (tmp_path / "raw").exists()
    monkeypatch.setenv("RAVDESS_DIR", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="is not a folder"):
        ensure_ravdess()


def test_make_data_offline_names_url_and_alternative(tmp_path, monkeypatch, capsys):
    from ser.app import cli

    url = "http://127.0.0.1:9/Audio_Speech_Actors_01-24.zip"  # port 9: nothing listens
    monkeypatch.delenv("RAVDESS_DIR", raising=False)
    monkeypatch.setattr(
        cli, "ensure_ravdess", functools.partial(ensure_ravdess, url=url, raw_dir=tmp_path)
    )
    assert cli.main(["data", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert url in err and "RAVDESS_DIR" in err
