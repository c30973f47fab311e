"""The free-port check of `taskchat dev`, against real sockets."""

from __future__ import annotations

import socket

from services.launcher.net import port_is_free


def _listener() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_a_port_someone_listens_on_is_not_free() -> None:
    with _listener() as server:
        assert not port_is_free("127.0.0.1", server.getsockname()[1])


def test_a_port_whose_server_just_stopped_is_free_again() -> None:
    """The server closed its side of a connection first: that connection now waits in TIME_WAIT
    on the server's port, which is what a restart right after Ctrl-C meets."""
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: TIME_WAIT is on its side
    server.close()
    client.recv(1)  # sees the close
    client.close()
    assert port_is_free("127.0.0.1", port)
