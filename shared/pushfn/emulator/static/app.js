// The emulator's inbox: every API call, live, drawn as the notifications it would show.
//
// Plain script, no build step, no dependency. Every value from the server is put into the page with
// textContent (never innerHTML): titles and bodies are whatever a client sent. Full device ids appear
// only inside a notification card; everywhere else they are masked as pushfn.logs.mask does
// ("e2ba…(32)"), and secret-named request parameters are masked in the detail view.
"use strict";

(() => {
  const API = "/_emulator";
  const FETCH_LIMIT = 200; // calls asked for at load and on each filter change
  const MAX_CALLS = 500; // calls kept in the page (oldest dropped): the tab stays small when left open
  const POLL_MS = 3000; // only when the event stream is unavailable
  const VISIBLE = 4; // characters of a masked value left visible, as pushfn.logs

  // Mirrors pushfn.logs: names that say secret, and 32-character letter/digit runs (CloudPush device ids).
  const SECRET_NAME =
    /secret|password|passwd|authorization|signature|credential|api[_-]?key|security[_-]?token|session[_-]?token|access[_-]?token|^token$|^bearer$/i;
  const DEVICE_ID_RUN = /(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])/g;
  const STRING_TO_SIGN = "server string to sign is:"; // the gateway's words in SignatureDoesNotMatch
  // ClientKey: the devices of BindTag, UnbindTag and QueryTags (their KeyType is DEVICE only).
  const DEVICE_ID_PARAMS = new Set(["DeviceId", "DeviceIds", "DeviceIdList", "ClientKey"]);
  const STATUSES = ["sent", "refused", "throttled"];
  const FILTERS = ["q", "device", "alias", "account", "tag", "status"];
  const OPEN_TYPES = { APPLICATION: "opens the app", ACTIVITY: "opens activity", URL: "opens", NONE: "no action" };

  const $ = (id) => document.getElementById(id);
  const state = {
    calls: new Map(), // seq → call, for the detail view
    counts: { sent: 0, refused: 0, throttled: 0 },
    countedUpTo: 0, // live calls above this seq are added to the counters
    devices: new Map(), // device id → {device_id, device_type, account, aliases, tags}
    deviceChoices: [], // option value "dN" → device id (full ids stay out of the DOM)
    generation: 0, // the newest fetch; answers of older ones are dropped
    loading: null, // a Promise while a fetch is running
    pendingLive: [],
    refetchTimer: 0,
    pollTimer: 0,
    stream: null,
    streamFailed: false,
    opener: null,
  };

  // --- values -------------------------------------------------------------------------------

  function mask(value) {
    const text = value === null || value === undefined ? "" : String(value);
    if (!text) return "";
    if (text.length <= VISIBLE * 2) return `…(${text.length})`;
    return `${text.slice(0, VISIBLE)}…(${text.length})`;
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // Text with every known device id (registry and calls), every id the call itself names (``ids``)
  // and every 32-character id-like run masked; a quoted V2 string to sign is scrubbed pair by pair.
  function scrubText(text, ids = []) {
    const source = String(text);
    const at = source.indexOf(STRING_TO_SIGN);
    if (at >= 0) {
      const tail = at + STRING_TO_SIGN.length;
      return scrubPlain(source.slice(0, tail), ids) + scrubStringToSign(source.slice(tail), ids);
    }
    return scrubPlain(source, ids);
  }

  function decoded(text) {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  }

  // SignatureDoesNotMatch quotes the server's V2 string to sign: METHOD&%2F& then the sorted query,
  // percent-encoded again ("SecurityToken%3DCAIS…%26TargetValue%3De2ba…"), where a token or an id
  // does not stand alone. Each value of a secret-named or device-id parameter is masked, and any
  // other whose decoded text holds a device id; the rest is left as sent (V3 quotes only a hash).
  function scrubStringToSign(tail, ids) {
    const head = /^(\s*[A-Z]+&[^&]*&)/.exec(tail);
    if (!head) return scrubPlain(tail, ids);
    const pairs = tail.slice(head[1].length).split("%26").map((pair) => {
      const split = pair.indexOf("%3D");
      if (split < 0) return scrubPlain(pair, ids);
      const name = decoded(decoded(pair.slice(0, split)));
      const value = decoded(decoded(pair.slice(split + 3)));
      const base = baseName(name);
      let shown;
      if (SECRET_NAME.test(base) && value) shown = mask(value);
      else if (DEVICE_ID_PARAMS.has(base) || (base === "TargetValue" && ids.length)) shown = maskList(value);
      else shown = scrubPlain(value, ids) === value ? pair.slice(split + 3) : scrubPlain(value, ids);
      return `${scrubPlain(pair.slice(0, split), ids)}%3D${shown}`;
    });
    return head[1] + pairs.join("%26");
  }

  function scrubPlain(text, ids = []) {
    let out = String(text).replace(DEVICE_ID_RUN, (m) => mask(m));
    const known = [...state.devices.keys()].filter((id) => id.length >= 6);
    for (const id of [...new Set([...known, ...ids])].sort((a, b) => b.length - a.length)) {
      if (!out.includes(id)) continue;
      // A short id the call named ("d1") is masked where it stands alone, not inside other words.
      out = out.replace(new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(id)}(?![A-Za-z0-9_-])`, "g"), mask(id));
    }
    return out;
  }

  function maskList(text) {
    return String(text)
      .split(",")
      .map((item) => mask(item.trim()))
      .join(",");
  }

  // The parameter's own name: "PushTask.2.TargetValue" → "TargetValue" (MassPush tasks arrive flattened).
  function baseName(name) {
    return String(name || "").split(".").pop();
  }

  // Whether parameter ``name`` (of ``params``) holds device ids: DeviceId(s), or a TargetValue whose
  // own Target (the task's, for a MassPush task) is DEVICE.
  function holdsDeviceIds(name, params, target) {
    const base = baseName(name);
    if (DEVICE_ID_PARAMS.has(base)) return true;
    if (base !== "TargetValue") return false;
    const own = params ? params[`${String(name).slice(0, -base.length)}Target`] : undefined;
    return (own ?? target) === "DEVICE";
  }

  // Every device id a call's parameters name, so an error message quoting one is masked too.
  function deviceIdsOf(params) {
    const ids = [];
    for (const [name, value] of Object.entries(params || {})) {
      if (typeof value === "string" && holdsDeviceIds(name, params, params.Target)) {
        ids.push(...value.split(",").map((s) => s.trim()).filter(Boolean));
      }
    }
    return ids;
  }

  // A copy of a request's parameters (or an answer) safe to show: secrets masked, device ids masked.
  function scrub(value, name, target, ids = [], depth = 0, parent = null) {
    if (depth > 32) return "…";
    if (name && SECRET_NAME.test(baseName(name)) && value !== null && value !== undefined && value !== "") {
      return mask(typeof value === "string" ? value : JSON.stringify(value));
    }
    if (typeof value === "string") {
      if (holdsDeviceIds(name, parent, target)) return maskList(value);
      return scrubText(value, ids);
    }
    if (Array.isArray(value)) return value.map((item) => scrub(item, name, target, ids, depth + 1, parent));
    if (value && typeof value === "object") {
      const out = {};
      for (const [key, item] of Object.entries(value)) {
        out[scrubText(key, ids)] = scrub(item, key, value.Target ?? target, ids, depth + 1, value);
      }
      return out;
    }
    return value;
  }

  function names(value) {
    if (Array.isArray(value)) return value.map(String);
    if (typeof value === "string" && value) return value.split(",").map((s) => s.trim()).filter(Boolean);
    return [];
  }

  function platformOf(deviceType) {
    const type = String(deviceType || "").toUpperCase();
    if (type === "IOS") return { key: "ios", label: "iOS" };
    if (type === "HARMONY") return { key: "harmony", label: "HarmonyOS" };
    return { key: "android", label: "Android" };
  }

  function clockTime(iso) {
    const when = new Date(iso);
    return Number.isNaN(when.getTime()) ? String(iso || "") : when.toLocaleTimeString();
  }

  // --- DOM helpers (text only) --------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function announce(text) {
    $("notice").textContent = text;
  }

  // --- reading a call -----------------------------------------------------------------------------

  // One params object per notification: the call's own, or one per MassPush task (PushTask.N.Name).
  function tasksOf(params) {
    const tasks = new Map();
    for (const [key, value] of Object.entries(params || {})) {
      const match = /^PushTask\.(\d+)\.(.+)$/.exec(key);
      if (!match) continue;
      if (!tasks.has(match[1])) tasks.set(match[1], { index: Number(match[1]) });
      tasks.get(match[1])[match[2]] = value;
    }
    if (!tasks.size) return [params || {}];
    return [...tasks.values()].sort((a, b) => a.index - b.index);
  }

  function deviceMatchesTask(device, task) {
    const wanted = String(task.DeviceType || "ALL").toUpperCase();
    return wanted === "ALL" || String(device.device_type || "").toUpperCase() === wanted;
  }

  function extras(raw) {
    if (raw === undefined || raw === null || raw === "") return [];
    let parsed = raw;
    if (typeof raw === "string") {
      try {
        parsed = JSON.parse(raw);
      } catch {
        return [String(raw)];
      }
    }
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.entries(parsed).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
    return [JSON.stringify(parsed)];
  }

  // The facts of one notification on one platform: [label, value] chips.
  function notificationFacts(task, platform) {
    const facts = [];
    if (platform === "ios") {
      if (task.iOSBadge !== undefined && task.iOSBadge !== "") facts.push(["badge", task.iOSBadge]);
      else if (String(task.iOSBadgeAutoIncrement) === "true") facts.push(["badge", "+1"]);
      if (task.iOSMusic) facts.push(["sound", task.iOSMusic]);
      if (String(task.iOSSilentNotification) === "true") facts.push(["silent", "yes"]);
      if (task.iOSNotificationCategory) facts.push(["category", task.iOSNotificationCategory]);
      facts.push(["open", "opens the app"]);
      for (const item of extras(task.iOSExtParameters)) facts.push(["extra", item]);
    } else if (platform === "harmony") {
      if (task.HarmonyBadgeSetNum !== undefined) facts.push(["badge", task.HarmonyBadgeSetNum]);
      else if (task.HarmonyBadgeAddNum !== undefined) facts.push(["badge", `+${task.HarmonyBadgeAddNum}`]);
      const type = String(task.HarmonyActionType || "APP_HOME_PAGE");
      facts.push(["open", task.HarmonyUri ? `${type} ${task.HarmonyUri}` : type]);
      for (const item of extras(task.HarmonyExtParameters)) facts.push(["extra", item]);
    } else {
      if (task.AndroidBadgeSetNum !== undefined) facts.push(["badge", task.AndroidBadgeSetNum]);
      else if (task.AndroidBadgeAddNum !== undefined) facts.push(["badge", `+${task.AndroidBadgeAddNum}`]);
      if (task.AndroidMusic) facts.push(["sound", task.AndroidMusic]);
      if (task.AndroidNotificationChannel) facts.push(["channel", task.AndroidNotificationChannel]);
      const type = String(task.AndroidOpenType || "APPLICATION").toUpperCase();
      let open = OPEN_TYPES[type] || type;
      if (type === "URL" && task.AndroidOpenUrl) open = `opens ${task.AndroidOpenUrl}`;
      if (type === "ACTIVITY" && task.AndroidActivity) open = `opens ${task.AndroidActivity}`;
      facts.push(["open", open]);
      for (const item of extras(task.AndroidExtParameters)) facts.push(["extra", item]);
    }
    return facts;
  }

  // --- drawing --------------------------------------------------------------------------------

  function notificationCard(call, task, device) {
    const platform = platformOf(device.device_type);
    const isMessage = String(task.PushType || "NOTICE").toUpperCase() === "MESSAGE";
    const title = platform.key === "ios" && task.iOSRemindBody && isMessage ? task.iOSRemindBody : task.Title;
    const card = el("div", {
      class: `notif ${platform.key}${isMessage ? " message" : ""}`,
      role: "group",
      "aria-label": `${platform.label} ${isMessage ? "message" : "notification"} on device ${mask(device.device_id)}`,
    });
    card.append(
      el(
        "div",
        { class: "n-head" },
        el("span", { class: "app-icon", "aria-hidden": "true" }),
        el("span", { class: "app", text: call.params && call.params.AppKey ? `App ${call.params.AppKey}` : "App" }),
        el("span", { class: "n-when", text: clockTime(call.time) }),
        el("span", { class: "platform", text: isMessage ? `${platform.label} · message` : platform.label }),
      ),
    );
    if (title) card.append(el("div", { class: "n-title", text: title }));
    if (platform.key === "ios" && task.iOSSubtitle) card.append(el("div", { class: "n-subtitle", text: task.iOSSubtitle }));
    if (task.Body) card.append(el("div", { class: "n-body", text: task.Body }));
    if (isMessage) card.append(el("div", { class: "n-note", text: "Data message: delivered to the app, not shown by the system." }));
    const facts = notificationFacts(task, platform.key);
    if (facts.length) {
      const list = el("ul", { class: "chips", "aria-label": "Notification details" });
      for (const [label, value] of facts) list.append(el("li", { class: `chip chip-${label}` }, el("b", { text: label }), " ", String(value)));
      card.append(list);
    }
    const who = [];
    const aliases = names(device.aliases);
    const tags = names(device.tags);
    if (device.account) who.push(`account ${device.account}`);
    if (aliases.length) who.push(`alias ${aliases.join(", ")}`);
    if (tags.length) who.push(`tags ${tags.join(", ")}`);
    card.append(
      el(
        "div",
        { class: "n-device" },
        "to ",
        el("code", { class: "device-id", title: "Device id", text: device.device_id }),
        who.length ? ` · ${who.join(" · ")}` : "",
      ),
    );
    return card;
  }

  function idList(call) {
    const params = call.params || {};
    const rows = [
      ["MessageId", call.message_id],
      ["JobKey", params.JobKey],
      ["IdempotentToken", params.IdempotentToken],
      ["Target", params.Target ? `${params.Target} ${scrub(params.TargetValue ?? "", "TargetValue", params.Target, deviceIdsOf(params))}`.trim() : null],
      ["RequestId", call.request_id],
    ];
    const list = el("dl", { class: "ids" });
    for (const [label, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("div", {}, el("dt", { text: label }), el("dd", { text: value })));
    }
    return list;
  }

  function callItem(call) {
    const status = STATUSES.includes(call.status) ? call.status : "refused";
    const item = el("li", { class: `call status-${status}${call.fault ? " faulted" : ""}`, "data-seq": call.seq });
    const headingId = `call-${call.seq}`;
    const article = el("article", { "aria-labelledby": headingId });
    const head = el(
      "header",
      { class: "call-head" },
      el("h2", { id: headingId, class: "call-title" }, el("span", { class: "action", text: call.action || "?" }), el("span", { class: "sr-only", text: ` ${status}` })),
      el("span", { class: `badge badge-${status}`, text: status }),
      call.code ? el("span", { class: "badge badge-code", title: "Code", text: call.code }) : null,
      call.fault ? el("span", { class: "badge badge-fault", title: "Injected fault", text: `fault: ${call.fault}` }) : null,
      el("time", { datetime: call.time, title: call.time, text: clockTime(call.time) }),
    );
    article.append(head);

    const answer = call.answer || {};
    if (status !== "sent" && answer.Message) article.append(el("p", { class: "reason", text: scrubText(answer.Message, deviceIdsOf(call.params)) }));

    const devices = Array.isArray(call.devices) ? call.devices : [];
    const tasks = tasksOf(call.params);
    const notifs = el("div", { class: "notifs" });
    for (const task of tasks) {
      const reached = devices.filter((d) => deviceMatchesTask(d, task));
      for (const device of reached) notifs.append(notificationCard(call, task, device));
      if (status === "sent" && !reached.length && (task.Title || task.Body)) {
        notifs.append(el("p", { class: "no-device", text: `No registered device matched${task.index ? ` (task ${task.index})` : ""}: nothing would be shown.` }));
      }
    }
    if (status !== "sent") {
      const params = call.params || {};
      if (params.Title || params.Body) {
        notifs.append(el("p", { class: "not-sent" }, "Not sent: ", el("q", { text: [params.Title, params.Body].filter(Boolean).join(" — ") })));
      }
    }
    if (notifs.childNodes.length) article.append(notifs);
    article.append(idList(call));
    article.append(
      el("button", { type: "button", class: "details", "data-seq": call.seq, "aria-label": `Details of ${call.action || "call"} ${call.message_id || call.request_id || call.seq}` }, "Details"),
    );
    item.append(article);
    return item;
  }

  function insertCall(call, { animate }) {
    if (state.calls.has(call.seq)) return false;
    state.calls.set(call.seq, call);
    rememberDevices(call.devices);
    const item = callItem(call);
    if (animate) item.classList.add("fresh");
    const list = $("calls");
    let before = null;
    for (const node of list.children) {
      if (Number(node.dataset.seq) < call.seq) {
        before = node;
        break;
      }
    }
    list.insertBefore(item, before);
    while (list.children.length > MAX_CALLS) {
      const last = list.lastElementChild;
      state.calls.delete(Number(last.dataset.seq));
      last.remove();
    }
    return true;
  }

  function drawCounts() {
    for (const status of STATUSES) $(`count-${status}`).textContent = String(state.counts[status] || 0);
    const filter = $("f-status").value;
    for (const button of document.querySelectorAll(".counter")) {
      button.setAttribute("aria-pressed", String(button.dataset.status === filter));
    }
    $("empty").hidden = $("calls").children.length > 0;
    $("empty").textContent = activeFilters() ? "No call matches these filters." : "No calls yet. Send a push to this emulator and it appears here at once.";
  }

  // --- devices ------------------------------------------------------------------------------------

  function rememberDevices(devices) {
    let added = false;
    for (const device of Array.isArray(devices) ? devices : []) {
      if (!device || typeof device.device_id !== "string" || !device.device_id) continue;
      if (!state.devices.has(device.device_id)) added = true;
      state.devices.set(device.device_id, { ...state.devices.get(device.device_id), ...device });
    }
    if (added) drawDeviceChoices();
  }

  function deviceLabel(device) {
    const extra = [platformOf(device.device_type).label];
    if (device.account) extra.push(device.account);
    const aliases = names(device.aliases);
    if (aliases.length) extra.push(aliases.join(", "));
    return `${mask(device.device_id)} (${extra.join(" · ")})`;
  }

  function drawDeviceChoices() {
    const select = $("f-device");
    const current = selectedDevice();
    state.deviceChoices = [...state.devices.keys()].sort();
    select.replaceChildren(el("option", { value: "", text: "any device" }));
    state.deviceChoices.forEach((id, index) => {
      const option = el("option", { value: `d${index}`, text: deviceLabel(state.devices.get(id)) });
      option.selected = id === current; // the property, not the attribute: a form reset must clear it
      select.append(option);
    });
  }

  function selectedDevice() {
    const value = $("f-device").value;
    return value ? state.deviceChoices[Number(value.slice(1))] || "" : "";
  }

  function drawDeviceTable(list) {
    const rows = $("device-rows");
    rows.replaceChildren();
    for (const device of list) {
      rows.append(
        el(
          "tr",
          {},
          el("td", { "data-label": "Device" }, el("code", { text: mask(device.device_id) })),
          el("td", { "data-label": "Type", text: platformOf(device.device_type).label }),
          el("td", { "data-label": "Account", text: device.account || "—" }),
          el("td", { "data-label": "Aliases", text: names(device.aliases).join(", ") || "—" }),
          el("td", { "data-label": "Tags", text: names(device.tags).join(", ") || "—" }),
        ),
      );
    }
    $("no-devices").hidden = list.length > 0;
  }

  async function loadDevices() {
    try {
      const response = await fetch(`${API}/devices`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      const list = Array.isArray(body) ? body : Array.isArray(body && body.devices) ? body.devices : [];
      rememberDevices(list);
      drawDeviceTable(list);
    } catch (error) {
      $("device-error").textContent = `Could not read the devices: ${error.message}`;
    }
  }

  async function registerDevice(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const error = $("device-error");
    error.textContent = "";
    const device = {
      device_id: $("d-id").value.trim(),
      device_type: $("d-type").value,
      aliases: names($("d-aliases").value),
      tags: names($("d-tags").value),
    };
    const account = $("d-account").value.trim();
    if (account) device.account = account;
    if (!device.device_id) {
      error.textContent = "A device id is required.";
      $("d-id").focus();
      return;
    }
    try {
      const response = await post("devices", { devices: [device] });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        error.textContent = `Not registered: ${scrubText(body.error || response.statusText || response.status)}`;
        return;
      }
    } catch (failure) {
      error.textContent = `Not registered: ${failure.message}`;
      return;
    }
    form.reset();
    announce(`Device ${mask(device.device_id)} registered.`);
    await loadDevices();
    $("d-id").focus();
  }

  function post(route, body) {
    return fetch(`${API}/${route}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  // --- calls: fetching and the live stream -------------------------------------------------------

  function filterValues() {
    return {
      q: $("f-q").value.trim(),
      device: selectedDevice(),
      alias: $("f-alias").value.trim(),
      account: $("f-account").value.trim(),
      tag: $("f-tag").value.trim(),
      status: $("f-status").value,
    };
  }

  function activeFilters() {
    return Object.values(filterValues()).some(Boolean);
  }

  async function loadCalls() {
    const generation = ++state.generation;
    const query = new URLSearchParams({ limit: String(FETCH_LIMIT) });
    const filters = filterValues();
    for (const name of FILTERS) if (filters[name]) query.set(name, filters[name]);
    const running = (async () => {
      const response = await fetch(`${API}/calls?${query}`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })();
    state.loading = running;
    let body;
    try {
      body = await running;
    } catch (error) {
      if (generation === state.generation) announce(`Could not read the calls: ${error.message}`);
      return;
    } finally {
      if (generation === state.generation) state.loading = null;
    }
    if (generation !== state.generation) return; // a newer filter won
    const calls = Array.isArray(body.calls) ? body.calls : [];
    $("calls").replaceChildren();
    state.calls.clear();
    for (const call of calls) insertCall(call, { animate: false });
    const counts = body.counts || {};
    for (const status of STATUSES) state.counts[status] = Number(counts[status]) || 0;
    state.countedUpTo = calls.reduce((top, call) => Math.max(top, Number(call.seq) || 0), 0);
    const pending = state.pendingLive.splice(0);
    for (const call of pending) onLiveCall(call);
    drawCounts();
  }

  function scheduleReload() {
    clearTimeout(state.refetchTimer);
    state.refetchTimer = setTimeout(loadCalls, 200);
  }

  function onLiveCall(call) {
    if (!call || typeof call.seq !== "number") return;
    if (state.loading) {
      state.pendingLive.push(call);
      return;
    }
    if (activeFilters()) {
      // The server decides what matches; ask it again rather than guess here.
      rememberDevices(call.devices);
      scheduleReload();
      return;
    }
    if (call.seq > state.countedUpTo && STATUSES.includes(call.status)) {
      state.counts[call.status] += 1;
      state.countedUpTo = call.seq;
    }
    if (insertCall(call, { animate: true })) {
      const devices = Array.isArray(call.devices) ? call.devices.length : 0;
      announce(
        call.status === "sent"
          ? `${call.action} sent to ${devices} device${devices === 1 ? "" : "s"}.`
          : `${call.action} ${call.status}${call.code ? `: ${call.code}` : ""}.`,
      );
    }
    drawCounts();
  }

  function setLive(stateName, text) {
    const live = $("live");
    live.dataset.state = stateName;
    live.textContent = text;
  }

  function connect() {
    if (!("EventSource" in window)) {
      startPolling();
      return;
    }
    const stream = new EventSource(`${API}/events`);
    state.stream = stream;
    stream.addEventListener("open", () => {
      setLive("live", "live");
      if (state.streamFailed) {
        state.streamFailed = false;
        loadCalls(); // calls that arrived while disconnected
      }
    });
    stream.addEventListener("call", (event) => {
      let call;
      try {
        call = JSON.parse(event.data);
      } catch {
        return;
      }
      onLiveCall(call);
    });
    stream.addEventListener("error", () => {
      state.streamFailed = true;
      if (stream.readyState === EventSource.CLOSED) startPolling();
      else setLive("reconnecting", "reconnecting…");
    });
  }

  function startPolling() {
    setLive("polling", `polling every ${POLL_MS / 1000} s`);
    if (!state.pollTimer) state.pollTimer = setInterval(() => state.loading || loadCalls(), POLL_MS);
  }

  // --- detail view --------------------------------------------------------------------------------

  function openDetail(seq, opener) {
    const call = state.calls.get(seq);
    if (!call) return;
    state.opener = opener;
    $("detail-title").textContent = `${call.action || "Call"} · ${call.status}${call.code ? ` · ${call.code}` : ""}`;
    const meta = $("detail-meta");
    meta.replaceChildren();
    const rows = [
      ["Time", call.time],
      ["Status", call.status],
      ["Code", call.code],
      ["Fault", call.fault],
      ["MessageId", call.message_id],
      ["RequestId", call.request_id],
      ["Devices", (call.devices || []).map((d) => `${mask(d.device_id)} ${platformOf(d.device_type).label}`).join(", ")],
    ];
    for (const [label, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      meta.append(el("div", {}, el("dt", { text: label }), el("dd", { text: value })));
    }
    const params = call.params || {};
    const ids = deviceIdsOf(params);
    $("detail-params").textContent = JSON.stringify(scrub(params, "", params.Target, ids), null, 2);
    $("detail-answer").textContent = JSON.stringify(scrub(call.answer ?? null, "", params.Target, ids), null, 2);
    const dialog = $("detail");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    $("detail-close").focus();
  }

  function closeDetail() {
    const dialog = $("detail");
    if (dialog.open) dialog.close();
  }

  // --- wiring -------------------------------------------------------------------------------------

  function selectTab(name) {
    for (const tab of ["calls", "devices"]) {
      const selected = tab === name;
      const button = $(`tab-${tab}`);
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`view-${tab}`).hidden = !selected;
    }
    if (name === "devices") loadDevices();
  }

  function wire() {
    $("tab-calls").addEventListener("click", () => selectTab("calls"));
    $("tab-devices").addEventListener("click", () => selectTab("devices"));
    document.querySelector(".tabs").addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const next = document.activeElement === $("tab-calls") ? "devices" : "calls";
      selectTab(next);
      $(`tab-${next}`).focus();
      event.preventDefault();
    });

    const filters = $("filters");
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      loadCalls();
    });
    filters.addEventListener("input", () => {
      drawCounts();
      scheduleReload();
    });
    filters.addEventListener("change", () => {
      drawCounts();
      scheduleReload();
    });
    filters.addEventListener("reset", () => setTimeout(() => (drawCounts(), loadCalls()), 0));

    for (const button of document.querySelectorAll(".counter")) {
      button.addEventListener("click", () => {
        const status = $("f-status");
        status.value = status.value === button.dataset.status ? "" : button.dataset.status;
        drawCounts();
        loadCalls();
      });
    }

    $("calls").addEventListener("click", (event) => {
      const button = event.target.closest("button.details");
      if (button) openDetail(Number(button.dataset.seq), button);
    });
    $("detail-close").addEventListener("click", closeDetail);
    $("detail").addEventListener("close", () => state.opener && state.opener.focus());
    $("detail").addEventListener("click", (event) => {
      if (event.target === $("detail")) closeDetail(); // a click on the backdrop
    });

    $("clear").addEventListener("click", async () => {
      try {
        const response = await post("reset", { keep_devices: true });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        announce(`Could not clear: ${error.message}`);
        return;
      }
      $("calls").replaceChildren();
      state.calls.clear();
      announce("Inbox cleared.");
      await loadCalls();
    });

    $("device-form").addEventListener("submit", registerDevice);
  }

  function start() {
    wire();
    drawCounts();
    loadDevices();
    loadCalls();
    connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
