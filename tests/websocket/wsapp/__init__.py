"""WebSocket test app (tests/websocket): login over HTTP, sockets, a chat on a Broadcast."""
