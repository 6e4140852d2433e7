/* cotty web view: draws the rows the relay sends and sends the guest's input back.
 * Protocol: relay -> page msgpack maps (frame, wait, bye); page -> relay JSON text (join, key, text,
 * paste, resize, mouse, focus). A read-only (or locked) page sends only join.
 *
 * Keys left to the browser (no preventDefault, nothing sent):
 *   Ctrl+Shift+C, Ctrl+Shift+V  copy / paste (the paste arrives as a "paste" event, sent as paste)
 *   Ctrl+V, Cmd+V               paste (likewise sent from the "paste" event)
 *   Ctrl+C, Cmd+C               copy, ONLY while text is selected; otherwise sent to the program
 *   F5                          reload (Ctrl+R and Ctrl+Shift+R go to the program: shells use them)
 *   F11, F12                    full screen, developer tools
 *   lone modifiers (Shift, Control, Alt, Meta, CapsLock, ...), dead keys, and keys pressed
 *   while an IME composes (isComposing / keyCode 229): their text comes from compositionend
 *   or from "input" events and is sent as {"type":"text"}.
 * Every other keydown is sent as {"type":"key"} and preventDefault()ed.
 * Mouse: while the program asks for the mouse, Shift+drag still selects text, as in xterm.
 */
"use strict";
(function () {
  // ---------------------------------------------------------------- msgpack decoding
  const utf8 = new TextDecoder("utf-8");

  function decode(buf) {
    const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = 0;
    const need = (n) => {
      if (p + n > bytes.length) throw new Error("msgpack: truncated");
    };
    const u8 = () => { need(1); return bytes[p++]; };
    const u16 = () => { need(2); const v = dv.getUint16(p); p += 2; return v; };
    const u32 = () => { need(4); const v = dv.getUint32(p); p += 4; return v; };
    const str = (n) => { need(n); const s = utf8.decode(bytes.subarray(p, p + n)); p += n; return s; };
    const bin = (n) => { need(n); const b = bytes.slice(p, p + n); p += n; return b; };
    const arr = (n) => { const a = new Array(n); for (let i = 0; i < n; i++) a[i] = val(); return a; };
    const map = (n) => {
      const o = {};
      for (let i = 0; i < n; i++) {
        const k = val();
        const v = val();
        Object.defineProperty(o, String(k), { value: v, enumerable: true, writable: true, configurable: true });
      }
      return o;
    };
    const ext = (n) => { const type = dv.getInt8((need(1), p++)); return { ext: type, data: bin(n) }; };
    function val() {
      const b = u8();
      if (b <= 0x7f) return b;
      if (b >= 0xe0) return b - 0x100;
      if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
      if (b >= 0x90 && b <= 0x9f) return arr(b & 0x0f);
      if (b >= 0x80 && b <= 0x8f) return map(b & 0x0f);
      let v;
      switch (b) {
        case 0xc0: return null;
        case 0xc2: return false;
        case 0xc3: return true;
        case 0xc4: return bin(u8());
        case 0xc5: return bin(u16());
        case 0xc6: return bin(u32());
        case 0xc7: return ext(u8());
        case 0xc8: return ext(u16());
        case 0xc9: return ext(u32());
        case 0xca: need(4); v = dv.getFloat32(p); p += 4; return v;
        case 0xcb: need(8); v = dv.getFloat64(p); p += 8; return v;
        case 0xcc: return u8();
        case 0xcd: return u16();
        case 0xce: return u32();
        case 0xcf: need(8); v = Number(dv.getBigUint64(p)); p += 8; return v;
        case 0xd0: need(1); v = dv.getInt8(p); p += 1; return v;
        case 0xd1: need(2); v = dv.getInt16(p); p += 2; return v;
        case 0xd2: need(4); v = dv.getInt32(p); p += 4; return v;
        case 0xd3: need(8); v = Number(dv.getBigInt64(p)); p += 8; return v;
        case 0xd4: return ext(1);
        case 0xd5: return ext(2);
        case 0xd6: return ext(4);
        case 0xd7: return ext(8);
        case 0xd8: return ext(16);
        case 0xd9: return str(u8());
        case 0xda: return str(u16());
        case 0xdb: return str(u32());
        case 0xdc: return arr(u16());
        case 0xdd: return arr(u32());
        case 0xde: return map(u16());
        case 0xdf: return map(u32());
        default: throw new Error("msgpack: bad byte 0x" + b.toString(16));
      }
    }
    const out = val();
    return out;
  }

  // ---------------------------------------------------------------- colours
  // A palette: {fg, bg, ansi: [16 x [r,g,b]]}.
  const CUBE = [0, 95, 135, 175, 215, 255];

  function indexed(i, pal) {
    if (i < 16) return pal.ansi[i];
    if (i < 232) {
      const n = i - 16;
      return [CUBE[Math.floor(n / 36)], CUBE[Math.floor(n / 6) % 6], CUBE[n % 6]];
    }
    const g = 8 + 10 * (i - 232);
    return [g, g, g];
  }

  // The colour value the relay sent -> [r,g,b], or null for "default".
  function colour(v, pal) {
    if (!v) return null;
    if (v >= 0x1000000) return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
    if (v <= 256) return indexed(v - 1, pal);
    return null;
  }

  const css = (c) => "rgb(" + c[0] + ", " + c[1] + ", " + c[2] + ")";
  const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] * (1 - t) + b[i] * t));
  const UNDERLINE = ["", "solid", "double", "wavy", "dotted", "dashed"];

  // STYLE [fg, bg, ul, ukind, attrs] -> CSS properties (camelCase) to set on a span.
  function styleCss(st, pal) {
    const fgv = st[0] | 0, bgv = st[1] | 0, ulv = st[2] | 0, uk = st[3] | 0, a = st[4] | 0;
    const out = {};
    let fg = colour(fgv, pal), bg = colour(bgv, pal);
    const inverse = a & 8, dim = a & 2;
    if (inverse) {
      const f = fg || pal.fg, b = bg || pal.bg;
      fg = b; bg = f;
    }
    if (dim) fg = mix(fg || pal.fg, bg || pal.bg, 0.5);
    if (fg) out.color = css(fg);
    if (bg) out.backgroundColor = css(bg);
    if (a & 1) out.fontWeight = "bold";
    if (a & 4) out.fontStyle = "italic";
    const lines = [];
    if (uk >= 1 && uk <= 5) {
      lines.push("underline");
      out.textDecorationStyle = UNDERLINE[uk];
      const ul = colour(ulv, pal);
      if (ul) out.textDecorationColor = css(ul);
    }
    if (a & 32) lines.push("line-through");
    if (lines.length) out.textDecorationLine = lines.join(" ");
    if (a & 16) {
      out.color = "transparent";
      out.textDecorationColor = "transparent";
    }
    return out;
  }

  // ---------------------------------------------------------------- rows
  // A narrow character that a monospace font may lack (symbols, emoji...): drawn in a
  // fixed-width cell so that a fallback font cannot shift the rest of the row.
  const mayBeFallback = (cp) => cp >= 0x2600;

  // ROW -> [{text, cls, style}] pieces, one span each. cls: "" | "w1" | "w2".
  function pieces(row) {
    const out = [];
    if (!Array.isArray(row)) return out;
    const styles = row[0] || [], runs = row[1] || [];
    for (const run of runs) {
      const sid = run[0] | 0, kind = run[1] | 0, text = String(run[2] == null ? "" : run[2]);
      const style = styles[sid] || [0, 0, 0, 0, 0];
      if (kind === 2 || kind === 3) {
        out.push({ text, cls: kind === 3 ? "w2" : "w1", style });
      } else if (kind === 1) {
        for (const ch of text) out.push({ text: ch, cls: "w2", style });
      } else {
        let plain = "";
        for (const ch of text) {
          if (mayBeFallback(ch.codePointAt(0))) {
            if (plain) out.push({ text: plain, cls: "", style });
            plain = "";
            out.push({ text: ch, cls: "w1", style });
          } else {
            plain += ch;
          }
        }
        if (plain) out.push({ text: plain, cls: "", style });
      }
    }
    return out;
  }

  // The row's text (what the row div's textContent is).
  function rowText(row) {
    if (!Array.isArray(row)) return "";
    let s = "";
    for (const run of row[1] || []) s += String(run[2] == null ? "" : run[2]);
    return s;
  }

  // The width (1 or 2) of the cell at column `col` of `row`.
  function cellWidth(row, col) {
    if (!Array.isArray(row)) return 1;
    let x = 0;
    for (const run of row[1] || []) {
      const kind = run[1] | 0, text = String(run[2] == null ? "" : run[2]);
      if (kind === 2 || kind === 3) {
        const w = kind === 3 ? 2 : 1;
        if (col < x + w) return w;
        x += w;
      } else {
        const w = kind === 1 ? 2 : 1;
        const n = [...text].length;
        if (col < x + n * w) return w;
        x += n * w;
      }
    }
    return 1;
  }

  if (typeof window === "undefined") {
    // node: the pure parts, for checking them without a browser.
    module.exports = { decode, colour, styleCss, pieces, rowText, cellWidth, indexed };
    return;
  }

  // ---------------------------------------------------------------- page state
  const $ = (id) => document.getElementById(id);
  const termEl = $("term"), gridEl = $("grid"), rowsEl = $("rows"), cursorEl = $("cursor");
  const inputEl = $("input"), statusEl = $("status"), barEl = $("bar"), probeEl = $("probe");

  const token = (() => {
    const raw = location.hash.replace(/^#/, "");
    try {
      return decodeURIComponent(raw).trim();
    } catch (e) {
      return raw.trim();
    }
  })();
  const state = {
    connected: false,
    frames: 0,
    cols: 0,
    rows: 0,
    access: token.startsWith("ro-") ? "ro" : "rw",
    locked: false,
    session: "",
    guests: 0,
    message: null,
    hostAway: false,
    title: "",
    cursor: { row: 0, col: 0, shape: "Block", blinking: false, visible: false },
    modes: { mouse: "None", focus_events: false, bracketed_paste: false },
    stopped: false, // a bye with retry:false: no more reconnecting
    bar: "",
  };
  // A key-only session's ticket back in after approve-web: kept in memory only, shown with
  // the next join so a dropped socket or a restarted relay does not ask for approve-web again.
  let ticket = null;
  let lines = []; // ROW per y
  let rowEls = []; // div.row per y
  let pal = null; // current palette
  const styleCache = new Map();
  let cell = { w: 9, h: 19 };

  function readPalette() {
    const cs = getComputedStyle(document.documentElement);
    const rgb = (name, dflt) => {
      const v = cs.getPropertyValue(name).trim();
      const m = /^#([0-9a-f]{6})$/i.exec(v);
      if (!m) return dflt;
      const n = parseInt(m[1], 16);
      return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    };
    const ansi = [];
    for (let i = 0; i < 16; i++) ansi.push(rgb("--c" + i, [128, 128, 128]));
    return { fg: rgb("--fg", [212, 212, 212]), bg: rgb("--bg", [30, 30, 30]), ansi };
  }

  function cssFor(st) {
    const key = st.join(",");
    let c = styleCache.get(key);
    if (!c) {
      c = styleCss(st, pal);
      styleCache.set(key, c);
    }
    return c;
  }

  // ---------------------------------------------------------------- drawing
  function drawRow(y) {
    const el = rowEls[y];
    if (!el) return;
    const frag = document.createDocumentFragment();
    for (const pc of pieces(lines[y])) {
      const span = document.createElement("span");
      if (pc.cls) span.className = pc.cls;
      const st = pc.style;
      span.dataset.fg = String(st[0] | 0);
      span.dataset.bg = String(st[1] | 0);
      span.dataset.ul = String(st[2] | 0);
      span.dataset.u = String(st[3] | 0);
      span.dataset.a = String(st[4] | 0);
      Object.assign(span.style, cssFor(st));
      span.textContent = pc.text;
      frag.appendChild(span);
    }
    el.replaceChildren(frag);
  }

  function setGridSize(cols, rows) {
    if (cols !== state.cols || rows !== state.rows || rowEls.length !== rows) {
      state.cols = cols;
      state.rows = rows;
      while (rowEls.length > rows) rowEls.pop().remove();
      while (rowEls.length < rows) {
        const div = document.createElement("div");
        div.className = "row";
        div.dataset.y = String(rowEls.length);
        rowsEl.appendChild(div);
        rowEls.push(div);
      }
      lines.length = Math.min(lines.length, rows);
    }
    gridEl.style.width = cols * cell.w + "px";
    gridEl.style.height = rows * cell.h + "px";
  }

  function drawCursor() {
    const c = state.cursor;
    const show = state.frames > 0 && c.visible && c.row < state.rows && c.col < state.cols;
    cursorEl.hidden = !show;
    const shape = c.shape === "Underline" ? "underline" : c.shape === "Beam" ? "beam" : "block";
    cursorEl.className = "cursor " + shape + (c.blinking ? " blink" : "");
    const x = Math.min(c.col, Math.max(0, state.cols - 1)) * cell.w;
    const y = Math.min(c.row, Math.max(0, state.rows - 1)) * cell.h;
    cursorEl.style.transform = "translate(" + x + "px, " + y + "px)";
    cursorEl.style.width = (shape === "beam" ? 1 : cellWidth(lines[c.row], c.col)) * cell.w + "px";
    // The hidden textarea follows the cursor, so that an IME's window opens next to it.
    inputEl.style.transform = "translate(" + x + "px, " + y + "px)";
    const at = x + "," + y;
    if (show && at !== followed) followCursor(x, y);
    followed = at;
  }

  let followed = "";
  // When the pane is larger than the window, scroll so that the cursor stays in view.
  function followCursor(x, y) {
    const vw = termEl.clientWidth, vh = termEl.clientHeight;
    if (x < termEl.scrollLeft) termEl.scrollLeft = x;
    else if (x + cell.w * 2 > termEl.scrollLeft + vw) termEl.scrollLeft = x + cell.w * 2 - vw;
    if (y < termEl.scrollTop) termEl.scrollTop = y;
    else if (y + cell.h > termEl.scrollTop + vh) termEl.scrollTop = y + cell.h - vh;
  }

  function redrawAll() {
    styleCache.clear();
    for (let y = 0; y < state.rows; y++) drawRow(y);
    drawCursor();
  }

  function drawStatus() {
    const ro = state.access === "ro";
    const access = state.locked ? "read-only (locked by host)" : ro ? "read-only" : "read-write";
    const guests = state.guests === 1 ? "1 guest" : state.guests + " guests";
    const last = state.hostAway ? "host reconnecting…" : state.message || "";
    const accessSpan = document.createElement("span");
    accessSpan.className = "access";
    accessSpan.textContent = access;
    const head = state.frames ? " cotty │ " + state.session + " │ " : " cotty │ ";
    const tail = state.frames ? " │ " + guests + (last ? " │ " + last : "") : "";
    if (state.frames || ro) statusEl.replaceChildren(document.createTextNode(head), accessSpan, document.createTextNode(tail));
    else statusEl.textContent = " cotty";
    statusEl.classList.toggle("ro", ro);
    statusEl.classList.toggle("locked", state.locked);
    statusEl.classList.toggle("away", state.hostAway);
    statusEl.dataset.access = state.access;
    document.title = state.title || "cotty — " + (state.session || "web view");
  }

  function showBar(text, error) {
    state.bar = text || "";
    barEl.textContent = state.bar;
    barEl.hidden = !text;
    barEl.classList.toggle("error", !!error);
  }

  // ---------------------------------------------------------------- messages
  function onFrame(f) {
    const cols = Math.max(0, f.cols | 0), rows = Math.max(0, f.rows | 0);
    if (f.full) lines = [];
    setGridSize(cols, rows);
    const changed = new Set();
    for (const entry of f.lines || []) {
      if (!Array.isArray(entry)) continue;
      const y = entry[0] | 0;
      if (y < 0 || y >= rows) continue;
      lines[y] = entry[1];
      changed.add(y);
    }
    if (f.full) for (let y = 0; y < rows; y++) changed.add(y);
    for (const y of changed) drawRow(y);
    if (f.cursor) Object.assign(state.cursor, f.cursor);
    if (f.modes) state.modes = Object.assign({}, state.modes, f.modes);
    if (typeof f.title === "string") state.title = f.title;
    const s = f.status;
    if (s) {
      if (s.session != null) state.session = String(s.session);
      if (s.access === "ro" || s.access === "rw") state.access = s.access;
      state.locked = !!s.locked;
      state.guests = s.guests | 0;
      state.message = s.message == null ? null : String(s.message);
      state.hostAway = !!s.host_away;
    }
    state.frames++;
    socketFrames++;
    backoff = 500; // a frame: the link works, start the next backoff from the beginning
    byeReason = "";
    if (state.bar && !state.stopped && Date.now() >= noticeUntil) showBar("");
    gridEl.classList.toggle("mouse", mouseOn());
    drawCursor();
    drawStatus();
    if (!canType() && document.activeElement === inputEl) inputEl.blur();
  }

  // Frames over 1 KiB come zlib-compressed: they start with 0x78, which a msgpack map never
  // does. Decompressing is asynchronous, so every message goes through one chain and is
  // applied in the order it came.
  let inbox = Promise.resolve();
  function receive(sock, data) {
    if (typeof data === "string") return;
    const bytes = new Uint8Array(data);
    const plain = bytes.length > 0 && bytes[0] === 0x78 ? inflate(bytes) : null;
    inbox = inbox
      .then(() => plain || data)
      .then((buf) => {
        if (sock === ws) onMessage({ data: buf });
      })
      .catch((e) => console.debug("cotty: undecodable message", e));
  }

  function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }

  function onMessage(ev) {
    if (typeof ev.data === "string") return;
    let msg;
    try {
      msg = decode(ev.data);
    } catch (e) {
      console.debug("cotty: undecodable message", e);
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "frame") onFrame(msg);
    else if (msg.type === "ticket") {
      ticket = String(msg.ticket || "") || null;
      state.approve = null;
    } else if (msg.type === "approve") {
      // A session that admits only listed keys: a guest with one lets this page in. A ticket
      // shown with the join did not do (run out, or its key is no longer listed).
      ticket = null;
      const command = String(msg.command || "");
      state.approve = command;
      showBar(
        "This session admits only listed keys. To let this page in, run this with one of " +
          "them:\n" + command,
        false,
      );
    } else if (msg.type === "wait") {
      // The host is asked about this page (--approve): its answer is the last word.
      socketWaited = true;
      showBar(String(msg.text || "waiting for the host"), false);
    } else if (msg.type === "bye") {
      const reason = msg.reason ? String(msg.reason) : "disconnected";
      if (msg.retry) {
        byeReason = reason;
        showBar(reason + " — reconnecting…", false);
      } else if (comingBack()) {
        // This page was in the session moments ago: a relay that restarted knows the session
        // again once its host is back, so a refusal now is not the last word.
        byeReason = "waiting for the session to come back";
        showBar(byeReason + " — reconnecting…", false);
      } else {
        state.stopped = true;
        clearTimeout(retryTimer);
        showBar(reason, true);
      }
    }
  }

  // ---------------------------------------------------------------- the socket
  let ws = null;
  let backoff = 500;
  let retryTimer = 0;
  let byeReason = "";
  // Frames on the current socket, and when a socket that had frames last dropped.
  let socketFrames = 0;
  let droppedAt = 0;
  // The relay asked the host about this socket's page (--approve).
  let socketWaited = false;
  // How long after a drop a refusal still means "not back yet" rather than "gone".
  const COME_BACK_MS = 120000;

  // Whether a refusal on this socket may be a session that is still on its way back.
  function comingBack() {
    if (socketWaited) return false;
    return socketFrames === 0 && droppedAt > 0 && Date.now() - droppedAt < COME_BACK_MS;
  }

  function send(obj) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj));
  }

  function canType() {
    return state.connected && state.frames > 0 && state.access === "rw" && !state.locked;
  }

  function connect() {
    retryTimer = 0;
    if (state.stopped) return;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      console.debug("cotty: cannot open the socket", e);
      scheduleRetry();
      return;
    }
    ws = sock;
    sock.binaryType = "arraybuffer";
    sock.onopen = () => {
      if (sock !== ws) return;
      state.connected = true;
      socketFrames = 0;
      socketWaited = false;
      const size = fit();
      sentSize = size.cols + "x" + size.rows;
      const join = { type: "join", token, cols: size.cols, rows: size.rows };
      if (ticket) join.ticket = ticket;
      sock.send(JSON.stringify(join));
      if (!byeReason) showBar("");
      lastFocus = null;
    };
    sock.onmessage = (ev) => receive(sock, ev.data);
    sock.onerror = () => {};
    sock.onclose = () => {
      if (sock !== ws) return;
      ws = null;
      state.connected = false;
      if (socketFrames > 0) droppedAt = Date.now();
      if (state.stopped) return;
      showBar(byeReason ? byeReason + " — reconnecting…" : "reconnecting…", false);
      scheduleRetry();
    };
  }

  function scheduleRetry() {
    if (state.stopped || retryTimer) return;
    const delay = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, 10000);
    retryTimer = setTimeout(connect, delay);
  }

  // ---------------------------------------------------------------- fitting the window
  let sentSize = "";
  let resizeTimer = 0;

  function measure() {
    const r = probeEl.getBoundingClientRect();
    const w = r.width / 10;
    const h = Math.round(r.height);
    if (w > 0 && h > 0 && (w !== cell.w || h !== cell.h)) {
      cell = { w, h };
      const root = document.documentElement.style;
      root.setProperty("--cw", w + "px");
      root.setProperty("--chh", h + "px");
      return true;
    }
    return false;
  }

  // The page's terminal area in cells.
  function fit() {
    measure();
    const r = termEl.getBoundingClientRect();
    return {
      cols: Math.max(1, Math.floor(r.width / cell.w)),
      rows: Math.max(1, Math.floor(r.height / cell.h)),
    };
  }

  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (measure()) {
        setGridSize(state.cols, state.rows);
        drawCursor();
      }
      if (!canType()) return;
      const size = fit();
      const key = size.cols + "x" + size.rows;
      if (key === sentSize) return;
      sentSize = key;
      send({ type: "resize", cols: size.cols, rows: size.rows });
    }, 100);
  }

  // ---------------------------------------------------------------- keyboard
  const MODIFIERS = new Set([
    "Shift", "Control", "Alt", "AltGraph", "Meta", "OS", "Super", "Hyper", "CapsLock", "NumLock",
    "ScrollLock", "Fn", "FnLock", "Symbol", "SymbolLock", "Dead", "Unidentified", "Process", "Compose",
  ]);

  const hasSelection = () => {
    const sel = window.getSelection();
    return !!sel && !sel.isCollapsed && sel.toString() !== "";
  };

  // Whether the browser keeps this key (see the list at the top).
  function browserKeeps(e) {
    const k = e.key, code = e.code;
    const isC = code === "KeyC" || k === "c" || k === "C";
    const isV = code === "KeyV" || k === "v" || k === "V";
    if (e.ctrlKey && e.shiftKey && !e.altKey && (isC || isV)) return true;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && isV) return true;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && isC && hasSelection()) return true;
    return k === "F5" || k === "F11" || k === "F12";
  }

  function onKeyDown(e) {
    if (e.isComposing || e.keyCode === 229) return;
    if (MODIFIERS.has(e.key)) return;
    if (!canType()) return;
    if (browserKeeps(e)) return;
    let ctrl = e.ctrlKey, alt = e.altKey;
    // AltGr (Ctrl+Alt on Windows) typing a character: the character is what was meant.
    if (e.getModifierState && e.getModifierState("AltGraph") && [...e.key].length === 1) {
      ctrl = false;
      alt = false;
    }
    e.preventDefault();
    send({ type: "key", key: e.key, code: e.code, ctrl, alt, shift: e.shiftKey, meta: e.metaKey });
    if (document.activeElement !== inputEl) focusInput();
  }

  let lastComposed = "";
  let lastComposedAt = 0;

  function onCompositionEnd(e) {
    const text = e.data || "";
    lastComposed = text;
    lastComposedAt = performance.now();
    if (text && canType()) send({ type: "text", text });
    inputEl.value = "";
  }

  function onInput(e) {
    if (e.isComposing) return;
    const t = e.inputType || "";
    const data = e.data || "";
    const recent = performance.now() - lastComposedAt < 100 && data === lastComposed;
    if (canType() && !recent) {
      if ((t === "insertText" || t === "insertReplacementText" || t === "insertFromComposition") && data) {
        send({ type: "text", text: data });
      } else if (t === "insertLineBreak" || t === "insertParagraph") {
        send({ type: "key", key: "Enter", code: "Enter", ctrl: false, alt: false, shift: false, meta: false });
      } else if (t === "deleteContentBackward") {
        send({ type: "key", key: "Backspace", code: "Backspace", ctrl: false, alt: false, shift: false, meta: false });
      }
    }
    inputEl.value = "";
  }

  // The relay takes messages of up to 64 KiB and closes a socket that sends more, so a
  // larger paste is refused here, with a word, instead of dropping the connection.
  const MAX_PASTE = 60 * 1024;
  const utf8Len = (s) => new TextEncoder().encode(s).length;

  function onPaste(e) {
    if (!canType()) return;
    const text = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
    e.preventDefault();
    inputEl.value = "";
    if (!text) return;
    const msg = JSON.stringify({ type: "paste", text });
    const size = utf8Len(msg);
    if (size > MAX_PASTE) {
      notice("paste not sent: " + Math.ceil(size / 1024) + " KB is more than the 60 KB a paste may be; paste it in parts");
      return;
    }
    if (ws && ws.readyState === 1) ws.send(msg);
  }

  // A passing word in the bar, for a few seconds, that frames do not wipe at once.
  let noticeUntil = 0;
  function notice(text) {
    noticeUntil = Date.now() + 5000;
    showBar(text, true);
    setTimeout(() => {
      if (Date.now() >= noticeUntil && !state.stopped && state.connected) showBar("");
    }, 5100);
  }

  function focusInput() {
    if (canType()) inputEl.focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------- mouse
  const mouseOn = () => canType() && state.modes.mouse && state.modes.mouse !== "None";
  let pressed = -1; // the button held since a mousedown we sent, or -1
  let lastCell = "";

  function cellAt(e, clamp) {
    const r = gridEl.getBoundingClientRect();
    let col = Math.floor((e.clientX - r.left) / cell.w);
    let row = Math.floor((e.clientY - r.top) / cell.h);
    const inside = col >= 0 && row >= 0 && col < state.cols && row < state.rows;
    if (!inside && !clamp) return null;
    col = Math.max(0, Math.min(state.cols - 1, col));
    row = Math.max(0, Math.min(state.rows - 1, row));
    return { col, row };
  }

  function sendMouse(kind, button, c, e) {
    send({
      type: "mouse", kind, button, col: c.col, row: c.row,
      ctrl: e.ctrlKey, alt: e.altKey, shift: e.shiftKey,
    });
  }

  function onMouseDown(e) {
    if (!mouseOn() || e.button > 2) return;
    if (e.shiftKey) {
      // Shift: select text as if the program had not asked for the mouse.
      if (document.activeElement === inputEl) inputEl.blur();
      const sel = window.getSelection();
      if (sel) sel.removeAllRanges();
      return;
    }
    const c = cellAt(e, false);
    if (!c) return;
    e.preventDefault();
    focusInput();
    pressed = e.button;
    lastCell = c.col + "," + c.row;
    sendMouse("down", e.button, c, e);
  }

  function onMouseUp(e) {
    if (pressed >= 0 && e.button === pressed) {
      const c = cellAt(e, true);
      pressed = -1;
      if (mouseOn() && c) sendMouse("up", e.button, c, e);
      return;
    }
    // No mouse reporting: a click focuses the input, unless it made a selection to keep.
    if (e.button === 0 && termEl.contains(e.target) && !hasSelection()) focusInput();
  }

  function onMouseMove(e) {
    if (!mouseOn()) return;
    const mode = state.modes.mouse;
    if (pressed < 0 && (e.buttons & 7) !== 0) return; // a Shift+drag selection: not the program's
    const dragging = pressed >= 0 && (e.buttons & 7) !== 0;
    if (dragging && mode !== "ButtonMotion" && mode !== "AnyMotion") return;
    if (!dragging && mode !== "AnyMotion") return;
    const c = cellAt(e, dragging);
    if (!c) return;
    const key = c.col + "," + c.row;
    if (key === lastCell) return;
    lastCell = key;
    sendMouse(dragging ? "drag" : "move", dragging ? pressed : 0, c, e);
  }

  function onWheel(e) {
    if (!mouseOn() || e.deltaY === 0) return;
    const c = cellAt(e, true);
    if (!c) return;
    e.preventDefault();
    sendMouse(e.deltaY < 0 ? "wheel_up" : "wheel_down", 0, c, e);
  }

  // ---------------------------------------------------------------- focus
  let lastFocus = null;

  function onFocusChange() {
    const on = document.hasFocus();
    document.body.classList.toggle("unfocused", !on);
    if (!state.modes.focus_events || !canType() || on === lastFocus) return;
    lastFocus = on;
    send({ type: "focus", on });
  }

  // ---------------------------------------------------------------- start
  window.cotty = {
    state,
    rowText: (y) => rowText(lines[y]),
    lines: () => lines,
    decode,
  };

  pal = readPalette();
  measure();
  drawStatus();

  if (!token) {
    showBar("this page needs a link with a session token after #; ask the host for the web link", true);
    state.stopped = true;
  }

  const scheme = window.matchMedia("(prefers-color-scheme: dark)");
  const onScheme = () => {
    pal = readPalette();
    redrawAll();
  };
  if (scheme.addEventListener) scheme.addEventListener("change", onScheme);

  window.addEventListener("resize", onResize);
  if (window.ResizeObserver) new ResizeObserver(onResize).observe(termEl);
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("paste", onPaste);
  inputEl.addEventListener("compositionend", onCompositionEnd);
  inputEl.addEventListener("input", onInput);
  termEl.addEventListener("mousedown", onMouseDown);
  window.addEventListener("mouseup", onMouseUp);
  window.addEventListener("mousemove", onMouseMove);
  termEl.addEventListener("wheel", onWheel, { passive: false });
  termEl.addEventListener("contextmenu", (e) => {
    if (mouseOn() && !e.shiftKey) e.preventDefault();
  });
  window.addEventListener("focus", onFocusChange);
  window.addEventListener("blur", onFocusChange);
  window.addEventListener("hashchange", () => location.reload());
  window.addEventListener("online", () => {
    if (retryTimer && !ws) {
      clearTimeout(retryTimer);
      connect();
    }
  });
  document.body.classList.toggle("unfocused", !document.hasFocus());

  if (token) {
    showBar("connecting…", false);
    connect();
  }
})();
