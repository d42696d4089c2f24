// Agora chat: one WebSocket to /chat/ws; every message is JSON from the server.
(function () {
  const box = document.getElementById("chat");
  const list = document.getElementById("messages");
  const form = document.getElementById("say");
  const input = document.getElementById("text");
  const status = document.getElementById("status");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  let socket;

  function show(msg) {
    const li = document.createElement("li");
    li.className = msg.kind;
    // textContent, never innerHTML: a message is text, whatever it contains.
    li.textContent = msg.kind === "join"
      ? `${msg.at} ${msg.user} joined`
      : `${msg.at} ${msg.user}: ${msg.text}`;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function connect() {
    // The session cookie goes with the upgrade request: the server knows who we are.
    socket = new WebSocket(scheme + location.host + box.dataset.socket);
    socket.onopen = () => { status.textContent = "connected"; box.dataset.ready = "1"; };
    socket.onmessage = (event) => show(JSON.parse(event.data));
    socket.onclose = () => {
      status.textContent = "disconnected, retrying…";
      delete box.dataset.ready;
      setTimeout(connect, 2000);
    };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim() && socket.readyState === WebSocket.OPEN) {
      socket.send(input.value);
      input.value = "";
    }
  });
  connect();
})();
