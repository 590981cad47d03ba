"""The class report on the hub: a JupyterHub service that serves the course's reports/ to the graders only.

The hub starts it as the instructor (who owns reports/, mode 700), behind the hub's login: a visitor
signs in through the hub's OAuth, and the hub lets through only users granted access to this service
(the instructor and the graders, a role in jupyterhub_config.py); the service checks the name again
and answers 403 to anyone else. The hub lists it in its Services menu, where only those users see it.
`make report` writes the pages; until then the service says so.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

NAME = "class-report"


def service(hub: dict, port: int) -> dict:
    """The entry of c.JupyterHub.services for the settings of course.commands.hub.manage."""
    return {
        "name": NAME,
        "display": True,
        "url": f"http://127.0.0.1:{port}",
        "user": hub["instructor"],
        "cwd": hub["course"],
        "oauth_no_confirm": True,
        "command": [hub["python"], "-m", "course.commands.hub.report_service",
                    "--folder", str(Path(hub["course"]) / "reports"),
                    "--readers", ",".join([hub["instructor"], *hub.get("graders", [])])],
        "environment": {"PATH": hub["path"]},
    }


def role(hub: dict) -> dict:
    """Who may open the service (the hub shows it in their Services menu): the instructor and the graders."""
    return {"name": "course-report-readers", "scopes": [f"access:services!service={NAME}"],
            "users": [hub["instructor"], *hub.get("graders", [])]}


def make_app(folder: Path, readers: set):
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from jupyterhub.utils import url_path_join
    from tornado import web

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{NAME}/")

    class ReportHandler(HubOAuthenticated, web.StaticFileHandler):
        def compute_etag(self):
            return None

        @web.authenticated
        async def get(self, path, include_body=True):
            if self.current_user["name"] not in readers:
                raise web.HTTPError(403, "the class report is for the instructor and the graders only")
            if not (folder / "index.html").is_file():
                self.set_status(404)
                self.finish("<p>No class report yet: run <code>make report</code> in the course folder.</p>")
                return
            self.set_header("Cache-Control", "no-store")
            await super().get(path or "index.html", include_body)

    return web.Application([
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        (url_path_join(prefix, "(.*)"), ReportHandler, {"path": str(folder), "default_filename": "index.html"}),
    ], cookie_secret=os.urandom(32))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="the course's reports/ folder")
    parser.add_argument("--readers", required=True, help="comma-separated hub names allowed to read it")
    args = parser.parse_args(argv)
    from tornado.ioloop import IOLoop

    address = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    make_app(args.folder, {r for r in args.readers.split(",") if r}).listen(address.port, address.hostname)
    IOLoop.current().start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
