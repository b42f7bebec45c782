/* shopassist chat widget: one <script src=".../static/widget.js" defer></script> on a shop's page.
 * Options as data- attributes on that tag: data-token (a signed customer token; none: anonymous),
 * data-lang ("en" | "zh"; default: the browser's), data-open ("true": open at load).
 * The page's URL may carry #token=... instead (the demo page).
 * Every text from the customer, the bot or an agent is inserted as text (textContent), never as HTML.
 * Frames: docs/web.md. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__shopassistWidget) { return; }
  window.__shopassistWidget = true;
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var hash = new URLSearchParams(location.hash.slice(1));
  var token = script.getAttribute("data-token") || hash.get("token") || "";
  var lang = script.getAttribute("data-lang") || hash.get("lang") ||
    ((navigator.language || "en").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
  var T = {
    en: { title: "Customer service", open: "Chat with us", close: "Close chat", placeholder: "Type your message",
      label: "Message", send: "Send", typing: "Assistant is typing", you: "You", bot: "Assistant", agent: "Agent",
      queued: "We're connecting you with a person. You can keep writing here.",
      joined: "{agent} from our team has joined the conversation.",
      back: "You're chatting with the assistant again.", offline: "Reconnecting…", online: "Connected",
      price: "Price", stock: "In stock: {n}", outOfStock: "Out of stock", error: "Something went wrong: {m}",
      sending: "sending…" },
    zh: { title: "客户服务", open: "在线咨询", close: "关闭对话", placeholder: "请输入消息", label: "消息", send: "发送",
      typing: "助手正在输入", you: "我", bot: "助手", agent: "客服", queued: "正在为您转接人工客服，您可以继续留言。",
      joined: "客服 {agent} 已加入对话。", back: "您已回到智能助手。", offline: "正在重新连接…", online: "已连接",
      price: "价格", stock: "库存：{n}", outOfStock: "缺货", error: "出错了：{m}", sending: "发送中…" }
  }[lang === "zh" ? "zh" : "en"];
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k] == null ? "" : String(v[k]); }); }

  var store = window.sessionStorage;
  var SKEY = "shopassist.session." + (token ? token.split(".")[0].slice(-16) : "anon");
  function newSession() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return "w-" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  var session = store.getItem(SKEY) || newSession();
  store.setItem(SKEY, session);
  function load(key, dflt) { try { return JSON.parse(store.getItem(key)) || dflt; } catch (e) { return dflt; } }
  var log = load("shopassist.log." + session, []);      // messages shown (with seq), replayed on reload
  var outbox = load("shopassist.outbox." + session, []); // messages typed while disconnected
  var lastSeq = log.reduce(function (m, x) { return Math.max(m, x.seq || 0); }, 0);
  function save() {
    store.setItem("shopassist.log." + session, JSON.stringify(log.slice(-200)));
    store.setItem("shopassist.outbox." + session, JSON.stringify(outbox));
  }

  var css = document.createElement("link");
  css.rel = "stylesheet"; css.href = new URL("widget.css", base).href;
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = text; }
    return e;
  }
  var root = el("div", "sa-root"); root.setAttribute("lang", lang === "zh" ? "zh" : "en");
  var launcher = el("button", "sa-launcher", T.open);
  launcher.type = "button"; launcher.setAttribute("aria-expanded", "false"); launcher.setAttribute("aria-controls", "sa-panel");
  var panel = el("section", "sa-panel"); panel.id = "sa-panel"; panel.hidden = true;
  panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", T.title);
  var head = el("header", "sa-head"); head.appendChild(el("h2", "sa-title", T.title));
  var status = el("span", "sa-status", T.offline); status.setAttribute("role", "status");
  head.appendChild(status);
  var closeBtn = el("button", "sa-close", "×"); closeBtn.type = "button"; closeBtn.setAttribute("aria-label", T.close);
  head.appendChild(closeBtn);
  var list = el("ol", "sa-messages"); list.setAttribute("role", "log"); list.setAttribute("aria-live", "polite");
  list.setAttribute("aria-relevant", "additions"); list.tabIndex = 0; list.setAttribute("aria-label", T.title);
  var typing = el("div", "sa-typing"); typing.hidden = true; typing.setAttribute("aria-label", T.typing);
  typing.appendChild(el("span", "sa-dot")); typing.appendChild(el("span", "sa-dot")); typing.appendChild(el("span", "sa-dot"));
  var typingText = el("span", "sa-visually-hidden", T.typing); typing.appendChild(typingText);
  var quick = el("div", "sa-quick"); quick.setAttribute("role", "group");
  var form = el("form", "sa-form");
  var inputId = "sa-input-" + Math.random().toString(36).slice(2);
  var label = el("label", "sa-visually-hidden", T.label); label.htmlFor = inputId;
  var input = el("textarea", "sa-input"); input.id = inputId; input.rows = 1; input.placeholder = T.placeholder;
  input.maxLength = 2000; input.setAttribute("autocomplete", "off");
  var send = el("button", "sa-send", T.send); send.type = "submit";
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(list); panel.appendChild(typing); panel.appendChild(quick); panel.appendChild(form);
  root.appendChild(launcher); root.appendChild(panel);

  function setOpen(open) {
    panel.hidden = !open; launcher.setAttribute("aria-expanded", String(open)); launcher.hidden = open;
    if (open) { input.focus(); } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { setOpen(false); } });

  function scroll() { list.scrollTop = list.scrollHeight; }
  function notice(text) {
    var li = el("li", "sa-msg sa-notice", text); list.appendChild(li); scroll(); return li;
  }
  function productCards(sources) {
    var products = (sources || []).filter(function (s) { return s.kind === "product"; });
    if (!products.length) { return null; }
    var ul = el("ul", "sa-cards");
    products.forEach(function (p) {
      var card = el("li", "sa-card");
      card.appendChild(el("span", "sa-card-name", p.title));
      if (p.price != null) {
        var price = Number(p.price).toLocaleString(lang === "zh" ? "zh-CN" : "en-US",
          { style: "currency", currency: p.currency || "USD" });
        card.appendChild(el("span", "sa-card-price", T.price + ": " + price));
      }
      if (p.stock != null) {
        card.appendChild(el("span", "sa-card-stock " + (p.stock > 0 ? "sa-in" : "sa-out"),
          p.stock > 0 ? fmt(T.stock, { n: p.stock }) : T.outOfStock));
      }
      ul.appendChild(card);
    });
    return ul;
  }
  function who(m) { return m.from === "user" ? T.you : m.from === "agent" ? (T.agent + " " + (m.agent || "")).trim() : T.bot; }
  function render(m) {
    if (m.type === "handoff") {
      notice(m.status === "queued" ? T.queued : m.status === "agent" ? fmt(T.joined, { agent: m.agent }) : T.back);
      return;
    }
    var li = el("li", "sa-msg sa-" + m.from);
    li.setAttribute("data-seq", m.seq || "");
    li.appendChild(el("span", "sa-who", who(m) + ": "));
    li.appendChild(el("span", "sa-text", m.text));
    if (m.reply) {
      var cards = productCards(m.reply.sources);
      if (cards) { li.appendChild(cards); }
    }
    if (m.pending) { li.classList.add("sa-pending"); li.appendChild(el("span", "sa-sending", T.sending)); }
    list.appendChild(li); scroll();
    return li;
  }
  function showQuick(options) {
    while (quick.firstChild) { quick.removeChild(quick.firstChild); }
    (options || []).forEach(function (o) {
      var b = el("button", "sa-quick-btn", o); b.type = "button";
      b.addEventListener("click", function () { submit(o); });
      quick.appendChild(b);
    });
  }
  var pendingEls = {};
  log.forEach(render);
  outbox.forEach(function (m) { pendingEls[m.id] = render({ from: "user", text: m.text, pending: true }); });

  var ws = null, backoff = 500, typingTimer = null, streaming = null;
  function setTyping(on) {
    typing.hidden = !on; clearTimeout(typingTimer);
    if (on) { typingTimer = setTimeout(function () { typing.hidden = true; }, 30000); }
  }
  function flush() {
    while (ws && ws.readyState === 1 && outbox.length) {
      var m = outbox.shift();
      ws.send(JSON.stringify({ type: "message", text: m.text, id: m.id }));
      sent[m.id] = m;
    }
    save();
  }
  var sent = {};
  function onFrame(f) {
    if (f.type === "ready") { status.textContent = T.online; backoff = 500; flush(); return; }
    if (f.type === "typing") { setTyping(true); return; }
    if (f.type === "delta") {
      if (!streaming) { streaming = render({ from: "bot", text: "" }); streaming.classList.add("sa-streaming"); }
      streaming.querySelector(".sa-text").textContent += f.text; scroll(); return;
    }
    if (f.type === "error") { notice(fmt(T.error, { m: f.message })).classList.add("sa-error"); return; }
    if ((f.type === "message" || f.type === "handoff") && f.seq) {
      if (f.seq <= lastSeq) { return; }
      lastSeq = f.seq;
      if (f.type === "message" && f.from === "user" && f.client_id && pendingEls[f.client_id]) {
        var p = pendingEls[f.client_id]; delete pendingEls[f.client_id]; delete sent[f.client_id];
        p.classList.remove("sa-pending"); var s = p.querySelector(".sa-sending"); if (s) { p.removeChild(s); }
        p.setAttribute("data-seq", f.seq);
      } else {
        if (f.from === "bot" || f.from === "agent") {
          setTyping(false);
          if (streaming && f.from === "bot") { list.removeChild(streaming); }
          streaming = null;
        }
        render(f);
      }
      if (f.from === "bot") { showQuick(f.reply && f.reply.quick_replies); }
      if (f.from === "agent" || f.type === "handoff") { showQuick([]); }
      log.push(f); save();
    }
  }
  function connect() {
    var url = origin.replace(/^http/, "ws") + "/v1/sessions/" + encodeURIComponent(session) + "/stream";
    ws = new WebSocket(url);
    ws.onopen = function () { ws.send(JSON.stringify({ type: "hello", token: token || undefined, after: lastSeq })); };
    ws.onmessage = function (e) { try { onFrame(JSON.parse(e.data)); } catch (err) { /* a frame we cannot read */ } };
    ws.onclose = function (e) {
      status.textContent = T.offline; setTyping(false);
      Object.keys(sent).forEach(function (id) { outbox.unshift(sent[id]); }); sent = {}; save();
      if (e.code === 4401) { notice(fmt(T.error, { m: "sign in again" })).classList.add("sa-error"); return; }
      if (e.code === 4403) {  // this session id is someone else's: start a conversation of our own
        session = newSession(); store.setItem(SKEY, session); lastSeq = 0; log = [];
      }
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
    };
  }
  var counter = 0;
  function submit(text) {
    text = (text || "").trim();
    if (!text) { return; }
    var m = { id: "c" + Date.now().toString(36) + (counter++), text: text.slice(0, 2000) };
    outbox.push(m); pendingEls[m.id] = render({ from: "user", text: m.text, pending: true });
    showQuick([]); flush();
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(input.value); input.value = ""; input.focus(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  function start() {
    document.body.appendChild(root);
    if (script.getAttribute("data-open") === "true") { setOpen(true); }
    connect();
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
