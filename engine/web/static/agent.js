/* shopassist agent console. Every text from customers, the bot or agents goes in as textContent;
 * every state-changing request carries the CSRF token (X-CSRF-Token). */
(function () {
  "use strict";
  var csrf = "", current = null, lastSeq = 0, me = "";
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text != null) { e.textContent = text; } return e; }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") { opts.headers["X-CSRF-Token"] = csrf; }
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error((data.error && data.error.message) || r.statusText); e.status = r.status; throw e; }
        return data;
      });
    });
  }
  function showLogin() {
    $("login").hidden = false; $("desk").hidden = true; $("who").textContent = "";
    api("GET", "/agent/api/login").then(function (d) { csrf = d.csrf; });
  }
  function showDesk(agent) {
    me = agent; $("login").hidden = true; $("desk").hidden = false; $("who").textContent = "Signed in as " + agent;
    refreshQueue();
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault(); $("login-error").textContent = "";
    api("POST", "/agent/api/login", { name: $("login-name").value, password: $("login-password").value })
      .then(function (d) { csrf = d.csrf; $("login-password").value = ""; showDesk(d.agent); })
      .catch(function (err) { $("login-error").textContent = err.message; api("GET", "/agent/api/login").then(function (d) { csrf = d.csrf; }); });
  });
  $("logout").addEventListener("click", function () { api("POST", "/agent/api/logout").then(showLogin); });

  function refreshQueue() {
    return api("GET", "/agent/api/queue").then(function (d) {
      var ul = $("queue"); clear(ul);
      if (!d.conversations.length) { ul.appendChild(el("li", "empty", "No hand-offs waiting")); }
      d.conversations.forEach(function (c) {
        var li = el("li", "queue-item " + c.status);
        var b = el("button", "open", (c.customer_id || "guest") + " · " + (c.status === "agent" ? "with " + c.agent : "waiting"));
        b.type = "button"; b.setAttribute("data-session", c.session_id);
        b.addEventListener("click", function () { open(c.session_id); });
        li.appendChild(b); li.appendChild(el("span", "reason", c.reason)); li.appendChild(el("span", "sentiment " + c.sentiment, c.sentiment));
        ul.appendChild(li);
      });
    }).catch(function (err) { if (err.status === 401) { showLogin(); } });
  }
  function fact(dl, k, v) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v == null ? "" : String(v))); }
  function renderConversation(d) {
    var c = d.conversation, dl = $("conv-facts"); clear(dl);
    fact(dl, "Customer", c.customer_id || "guest"); fact(dl, "Status", c.status === "agent" ? "with " + c.agent : c.status);
    fact(dl, "Reason", c.reason); fact(dl, "Sentiment", c.sentiment); fact(dl, "Summary", c.summary);
    $("take").hidden = c.status === "agent"; $("handback").hidden = c.status !== "agent";
    $("reply-form").hidden = c.status !== "agent";
    var ul = $("orders"); clear(ul);
    if (!d.orders.length) { ul.appendChild(el("li", "empty", "none")); }
    d.orders.forEach(function (o) { ul.appendChild(el("li", null, o.order_id + " · " + o.status + " · " + o.placed + " · " + o.items.join(", "))); });
    d.messages.forEach(addMessage);
  }
  function addMessage(m) {
    if (m.seq <= lastSeq) { return; }
    lastSeq = m.seq;
    var li;
    if (m.type === "handoff") { li = el("li", "msg notice", m.status === "agent" ? m.agent + " took over" : m.status === "bot" ? "handed back to the bot" : "handed off"); }
    else {
      li = el("li", "msg " + m.from); li.setAttribute("data-seq", m.seq);
      li.appendChild(el("span", "who", (m.from === "agent" ? m.agent : m.from) + ": "));
      li.appendChild(el("span", "text", m.text));
      if (m.from === "bot") {
        [["good", 1, "Good reply"], ["bad", -1, "Bad reply"]].forEach(function (r) {
          var b = el("button", "rate " + r[0], r[0]); b.type = "button"; b.setAttribute("aria-label", r[2]);
          b.addEventListener("click", function () {
            api("POST", "/agent/api/conversations/" + encodeURIComponent(current) + "/rate", { seq: m.seq, rating: r[1] })
              .then(function () { b.setAttribute("aria-pressed", "true"); b.textContent = r[0] + " ✓"; })
              .catch(function (err) { $("conv-error").textContent = err.message; });
          });
          li.appendChild(b);
        });
      }
    }
    $("messages").appendChild(li);
  }
  function open(session) {
    current = session; lastSeq = 0; clear($("messages")); $("conv-error").textContent = "";
    $("conversation").hidden = false;
    return api("GET", "/agent/api/conversations/" + encodeURIComponent(session)).then(renderConversation)
      .catch(function (err) { $("conv-error").textContent = err.message; });
  }
  function poll() {
    if (!me) { return; }
    refreshQueue();
    if (current) {
      api("GET", "/agent/api/conversations/" + encodeURIComponent(current) + "?after=" + lastSeq).then(function (d) {
        var c = d.conversation;
        $("take").hidden = c.status === "agent"; $("handback").hidden = c.status !== "agent"; $("reply-form").hidden = c.status !== "agent";
        d.messages.forEach(addMessage);
      }).catch(function (err) { if (err.status === 403) { current = null; $("conversation").hidden = true; } });
    }
  }
  function act(path, body) {
    $("conv-error").textContent = "";
    return api("POST", "/agent/api/conversations/" + encodeURIComponent(current) + path, body)
      .then(poll).catch(function (err) { $("conv-error").textContent = err.message; });
  }
  $("take").addEventListener("click", function () { act("/take"); });
  $("handback").addEventListener("click", function () { act("/handback"); });
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault(); var text = $("reply").value.trim(); if (!text) { return; }
    act("/reply", { text: text }).then(function () { $("reply").value = ""; $("reply").focus(); });
  });
  api("GET", "/agent/api/me").then(function (d) { csrf = d.csrf; showDesk(d.agent); }).catch(showLogin);
  setInterval(poll, 1000);
})();
