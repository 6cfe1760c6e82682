"""The shipped nginx configuration run on this machine, for tests and benchmarks: deploy/nginx as
docker-compose mounts it, with this machine's paths for the container's and the given upstream
(gunicorn's unix socket, say) for Docker's `web:8000`.

    with LocalNginx(directory, upstream="unix:/tmp/x/gunicorn.sock") as nginx:
        urllib.request.urlopen(nginx.url + "/")
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "nginx"


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalNginx:
    def __init__(
        self,
        directory: Path,
        *,
        upstream: str,
        admin_url: str = "admin/",
        media: Path | None = None,
        workers: int = 1,
    ):
        self.directory = directory
        self.upstream = upstream
        self.admin_url = admin_url
        self.media = media or directory / "media"
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = directory / "nginx.conf"
        self.access_log = directory / "access.log"
        self.error_log = directory / "error.log"
        self.cache = directory / "cache"

    def write(self) -> None:
        conf = self.directory / "laurel"
        conf.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(parents=True, exist_ok=True)
        # What the nginx image does as it starts: the templates, filled in with ADMIN_URL.
        template = (SHIPPED / "templates" / "import.conf.template").read_text()
        (conf / "import.conf").write_text(
            self._local(template.replace("${ADMIN_URL}", self.admin_url))
        )
        for source in SHIPPED.glob("*.conf"):
            text = self._local(source.read_text())
            # Docker's DNS and its `resolve` are the container's; here the upstream is given.
            text = re.sub(r"resolver [^;]*;|zone laurel 64k;", "", text)
            text = text.replace("server web:8000 resolve;", f"server {self.upstream};")
            (conf / source.name).write_text(text)
        self.conf.write_text(
            # As root (CI), workers would run as nobody, who cannot read pytest's private folders.
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"""
            worker_processes {self.workers};
            pid {self.directory}/nginx.pid;
            error_log {self.error_log};
            events {{ worker_connections 4096; }}
            http {{
                include /etc/nginx/mime.types;
                include {conf}/upstream.conf;
                client_body_temp_path {self.directory}/body;
                proxy_temp_path {self.directory}/proxy;
                server {{
                    listen 127.0.0.1:{self.port};
                    server_tokens off;
                    access_log {self.access_log} laurel;
                    include {conf}/locations.conf;
                }}
            }}
            """
        )

    def _local(self, text: str) -> str:
        text = text.replace("/etc/nginx/laurel/", f"{self.directory / 'laurel'}/")
        text = text.replace("/etc/nginx/generated/", f"{self.directory / 'laurel'}/")
        text = text.replace("/var/cache/nginx/laurel", str(self.cache))
        return text.replace("alias /app/media/;", f"alias {self.media}/;")

    def __enter__(self) -> "LocalNginx":
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
        self.write()
        subprocess.run([binary, "-t", "-q", "-c", str(self.conf)], check=True)
        subprocess.run([binary, "-c", str(self.conf)], check=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        """The master process's."""
        return int((self.directory / "nginx.pid").read_text())

    def __exit__(self, *exc) -> None:
        pid_file = self.directory / "nginx.pid"
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
