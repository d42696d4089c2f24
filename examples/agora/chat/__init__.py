"""Live chat over WebSocket, fanned out through torngas.broadcast."""
