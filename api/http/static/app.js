/* Shangyun dashboard: a small single-page app over /api/v1. zh-CN by default, English on a switch.
   The bearer token from POST /api/v1/auth/login lives in sessionStorage; pages show only what the
   user's role may read (GET /api/v1/auth/me lists the permissions). Charts: Apache ECharts, served
   locally from /static/vendor (the product runs offline). */
"use strict";

const TEXT = {
  zh: {
    brand: "上云 · 政务云迁移与运营", logout: "退出", login_title: "登录", username: "用户名", password: "密码",
    login: "登录", login_failed: "用户名或密码错误", overview: "总览", utilization: "云资源", rooms: "机房",
    waves: "迁移批次", savings: "节约", requests: "容量申请", rooms_active: "在用机房", rooms_closing: "关停中",
    rooms_closed: "已关停", systems: "业务系统", on_cloud_rate: "上云率", classified: "涉密系统（不上云）",
    by_strategy: "迁移策略", by_status: "系统状态", wave_progress: "批次进度", done: "已完成", failed: "失败",
    remaining: "待迁移", platform: "平台", allocation: "分配率", usage: "使用率", history: "历史与预测",
    hosts: "宿主机", cpu: "CPU", memory: "内存", storage: "存储", forecast: "预测", reaches: "达到",
    not_within: "预测期内不会达到", expansion: "扩容建议", planned_expansion: "计划扩容", hosts_unit: "台", score: "关停评分", room: "机房",
    name: "名称", annual_cost: "年成本（万元）", reasons: "理由", blocked_by: "阻碍关停的系统", none: "无",
    wave: "批次", start: "开始", end: "结束", items: "条目", status: "状态", system: "系统", strategy: "策略",
    rooms_closing_after: "本批后关停机房", year: "年度", baseline: "基线成本（万元）", paid: "机房支出（万元）",
    cloud: "云服务费（万元）", saving: "净节约（万元）", download: "下载 Excel", per_room: "各机房",
    fiscal: "年度合计（万元）", lines_carried: "其中线路合同（万元）", refresh_due: "设备更新（万元）",
    hosting: "托管费（万元）", stops_from: "停止支付年度", lines: "线路", wan: "万元",
    net_saving: "年净节约（万元）", closes_on: "关停日期", cloud_cost: "迁出系统云成本（万元/年）", department: "部门",
    vcpus: "vCPU", memory_gb: "内存 GB", storage_gb: "存储 GB", purpose: "用途", submit: "提交申请",
    reason: "答复", due: "答复期限", overdue: "已超期", review: "重新审核排队申请", new_request: "申请容量",
    for_system: "用于系统", or_state: "或说明", mlps_level: "等保级别", is_classified: "是否涉密", yes: "是", no: "否",
    ask_for_what: "请填写用于哪个系统，或同时选择等保级别和是否涉密。",
    all_requests: "申请列表", rule_note: "在N年关停的机房，N年仍需支付，自N+1年起不再支付。", load: "CPU负载",
    allocated: "已分配", no_data: "暂无数据", zone: "可用区", instances: "实例数",
    no_hosts: "暂无宿主机数据：平台由调查表导入，未采集宿主机。对该平台运行 OpenStack 采集（shangyun collect openstack）或 Kubernetes 采集后，这里显示每台宿主机的分配率与CPU负载。",
    no_history: "暂无历史数据：每次导入调查表或采集云平台都会记录当天的分配与使用，积累后这里显示趋势与预测。",
    no_plan: "暂无迁移计划：运行 shangyun plan create 生成计划后显示各批次。",
    no_systems: "暂无业务系统：用 shangyun import 导入调查表后显示。",
    closable_rooms: "可关停的机房（按关停评分排序）", blocked_rooms: "暂不能关停的机房", unblock: "如何才能关停",
  },
  en: {
    brand: "Shangyun · government cloud", logout: "Log out", login_title: "Log in", username: "Username",
    password: "Password", login: "Log in", login_failed: "Wrong username or password", overview: "Overview",
    utilization: "Cloud", rooms: "Rooms", waves: "Waves", savings: "Savings", requests: "Capacity requests",
    rooms_active: "Rooms in use", rooms_closing: "Closing", rooms_closed: "Closed", systems: "Systems",
    on_cloud_rate: "On-cloud rate", classified: "Classified (stay off the cloud)", by_strategy: "Strategies",
    by_status: "System status", wave_progress: "Wave progress", done: "Done", failed: "Failed",
    remaining: "Remaining", platform: "Platform", allocation: "Allocation", usage: "Usage",
    history: "History and forecast", hosts: "Hosts", cpu: "CPU", memory: "Memory", storage: "Storage",
    forecast: "Forecast", reaches: "reaches", not_within: "not within the horizon", expansion: "Expansion", planned_expansion: "Planned expansion",
    hosts_unit: "hosts", score: "Score", room: "Room", name: "Name", annual_cost: "Annual cost (10k CNY)",
    reasons: "Reasons", blocked_by: "Systems keeping it open", none: "none", wave: "Wave", start: "Start",
    end: "End", items: "Items", status: "Status", system: "System", strategy: "Strategy",
    rooms_closing_after: "Rooms closing after it", year: "Year", baseline: "Baseline (10k CNY)",
    paid: "Room cost paid (10k CNY)", cloud: "Cloud cost (10k CNY)", saving: "Net saving (10k CNY)",
    download: "Download xlsx", per_room: "Per room", fiscal: "Fiscal years (10k CNY)",
    lines_carried: "Of which lines under contract (10k CNY)", refresh_due: "Hardware refresh due (10k CNY)",
    hosting: "Hosting (10k CNY)", stops_from: "Stops costing from FY", lines: "Leased lines", wan: "10k CNY",
    net_saving: "Net annual saving (10k CNY)", closes_on: "Closes on",
    cloud_cost: "Cloud cost of its systems (10k CNY/yr)", department: "Department", vcpus: "vCPUs", memory_gb: "Memory GB",
    storage_gb: "Storage GB", purpose: "Purpose", submit: "Submit", reason: "Answer", due: "Due",
    overdue: "Overdue", review: "Decide the queue again", new_request: "Ask for capacity",
    for_system: "For system", or_state: "or state", mlps_level: "MLPS level", is_classified: "Classified", yes: "yes", no: "no",
    ask_for_what: "Name the system it is for, or choose both its MLPS level and whether it is classified.",
    all_requests: "Requests", rule_note: "A room closed in year N is paid through N and stops costing from N+1.",
    load: "CPU load", allocated: "Allocated", no_data: "No data yet", zone: "Zone", instances: "Instances",
    no_hosts: "No host data: this platform came from the survey, and its hosts were never collected. Run the OpenStack collector (shangyun collect openstack) or the Kubernetes collector on it to see each host's allocation and CPU load here.",
    no_history: "No history yet: every survey import and cloud collection records the day's allocation and use; once days accumulate, the trend and forecast appear here.",
    no_plan: "No migration plan yet: run shangyun plan create to see its waves here.",
    no_systems: "No business systems yet: import a survey with shangyun import to see them here.",
    closable_rooms: "Rooms that can close (by score)", blocked_rooms: "Rooms that cannot close yet",
    unblock: "What would let it close",
  },
};
/* Values the API returns as codes (strategies, statuses), shown in the page's language. */
const VALUES = {
  zh: { rehost: "迁移上云主机", replatform: "容器化迁移", retire: "关停下线", retain: "保留", relocate: "设备搬迁托管",
    intranet: "迁往政务内网",
    running: "运行", zombie: "僵尸系统", migrating: "迁移中", migrated: "已迁移", retired: "已停用",
    planned: "计划中", in_progress: "进行中", done: "已完成", failed: "失败", not_migrated: "不迁移",
    active: "在用", decommissioning: "关停中", closed: "已关停", pending: "待审", approved: "已批准",
    queued: "排队", rejected: "已驳回", vcpus: "CPU", memory_gb: "内存", storage_gb: "存储" },
  en: { rehost: "rehost", replatform: "replatform", retire: "retire", retain: "retain", relocate: "relocate",
    intranet: "to the intranet",
    running: "running", zombie: "zombie", migrating: "migrating", migrated: "migrated", retired: "retired",
    planned: "planned", in_progress: "in progress", done: "done", failed: "failed", not_migrated: "not migrated",
    active: "active", decommissioning: "decommissioning", closed: "closed", pending: "pending", approved: "approved",
    queued: "queued", rejected: "rejected", vcpus: "CPU", memory_gb: "Memory", storage_gb: "Storage" },
};
const label = (code) => VALUES[state.lang][code] ?? code;

const PAGES = [
  ["overview", "dashboard:read"], ["utilization", "dashboard:read"], ["rooms", "dashboard:read"],
  ["waves", "plans:read"], ["savings", "costs:read"], ["requests", "requests:read"],
];
const state = { lang: localStorage.getItem("shangyun.lang") || "zh", me: null, charts: [] };
const t = (key) => (TEXT[state.lang][key] ?? key);
const $ = (sel, root = document) => root.querySelector(sel);
const view = $("#view");

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
const num = (v, digits = 0) => (v == null ? "—" : Number(v).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-US",
  { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (v) => (v == null ? "—" : `${(v * 100).toFixed(1)}%`);
const wan = (cny) => num(cny / 1e4, 1);

async function api(path, options = {}) {
  const token = sessionStorage.getItem("shangyun.token");
  const headers = { ...(options.headers || {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  if (options.body && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options = { ...options, body: JSON.stringify(options.body) };
  }
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401) { logout(); throw new Error("unauthorised"); }
  return response;
}
const json = async (path) => (await api(path)).json();

function chart(element, option) {
  const instance = echarts.init(element, "dark", { renderer: "canvas" });
  instance.setOption({ backgroundColor: "transparent", textStyle: { fontFamily: "inherit" }, ...option });
  state.charts.push(instance);
  return instance;
}
window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));

function applyStaticText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = state.lang === "zh" ? "EN" : "中文";
}

function logout() {
  sessionStorage.removeItem("shangyun.token");
  state.me = null;
  location.hash = "#/login";
  render();
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  const response = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }) });
  if (!response.ok) { $("#login-error").textContent = t("login_failed"); return; }
  sessionStorage.setItem("shangyun.token", (await response.json()).token);
  location.hash = "#/overview";
  await render();
}

function buildNav() {
  const nav = $("#nav");
  const allowed = PAGES.filter(([, permission]) => state.me.permissions.includes(permission));
  nav.innerHTML = allowed.map(([page]) => `<a href="#/${page}" data-page="${page}">${esc(t(page))}</a>`).join("");
  nav.hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${state.me.username} · ${state.me.role}${state.me.department_code ? " · " + state.me.department_code : ""}`;
  return allowed.map(([page]) => page);
}

async function render() {
  applyStaticText();
  state.charts.forEach((c) => c.dispose());
  state.charts = [];
  if (!sessionStorage.getItem("shangyun.token")) { showLogin(); return; }
  if (!state.me) {
    const response = await api("/auth/me");
    if (!response.ok) { showLogin(); return; }
    state.me = await response.json();
  }
  const allowed = buildNav();
  let page = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!allowed.includes(page)) page = allowed[0];
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
  view.innerHTML = `<section id="page-${page}" aria-busy="true"></section>`;
  const section = $(`#page-${page}`);
  await RENDER[page](section);
  section.setAttribute("aria-busy", "false");
}

function showLogin() {
  $("#nav").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  view.innerHTML = "";
  const form = document.createElement("form");
  form.id = "login";
  form.className = "card login";
  form.innerHTML = `<h1>${esc(t("login_title"))}</h1>
    <label><span>${esc(t("username"))}</span><input name="username" autocomplete="username" required></label>
    <label><span>${esc(t("password"))}</span><input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">${esc(t("login"))}</button><p class="error" id="login-error" role="alert"></p>`;
  form.addEventListener("submit", login);
  view.appendChild(form);
}

function kpi(id, label, value) {
  return `<div class="card kpi"><div class="value" data-kpi="${id}">${esc(value)}</div><div class="label">${esc(label)}</div></div>`;
}

function table(id, columns, rows) {
  if (!rows.length) return `<p class="note">${esc(t("no_data"))}</p>`;
  const head = columns.map(([label, , cls]) => `<th class="${cls || ""}">${esc(label)}</th>`).join("");
  const body = rows.map((row) => `<tr>${columns.map(([, cell, cls]) => `<td class="${cls || ""}">${cell(row)}</td>`).join("")}</tr>`).join("");
  return `<div class="scroll"><table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const RENDER = {
  async overview(section) {
    const o = await json("/overview");
    const rooms = o.rooms_by_status;
    const systems = Object.values(o.systems_by_status).reduce((a, b) => a + b, 0);
    section.innerHTML = `<h1>${esc(t("overview"))}${o.plan ? ` <span class="note">${esc(o.plan)}</span>` : ""}</h1>
      <div class="cards">${kpi("rooms-active", t("rooms_active"), num(rooms.active || 0))}
        ${kpi("rooms-closing", t("rooms_closing"), num(rooms.decommissioning || 0))}
        ${kpi("rooms-closed", t("rooms_closed"), num(rooms.closed || 0))}
        ${kpi("systems", t("systems"), num(systems))}
        ${kpi("on-cloud-rate", t("on_cloud_rate"), pct(o.on_cloud_rate))}
        ${kpi("classified", t("classified"), num(o.classified_systems))}</div>
      <div class="grid"><div class="card"><h2>${esc(t("by_strategy"))}</h2><div class="chart" id="strategy"></div></div>
        <div class="card"><h2>${esc(t("by_status"))}</h2><div class="chart" id="status"></div></div>
        <div class="card"><h2>${esc(t("wave_progress"))}</h2><div class="chart" id="progress"></div></div></div>`;
    const pie = (data) => ({ tooltip: {}, series: [{ type: "pie", radius: ["35%", "70%"],
      data: Object.entries(data).map(([name, value]) => ({ name: label(name), value })) }] });
    const empty = (id, key) => { $(id).outerHTML = `<p class="note empty">${esc(t(key))}</p>`; };
    if (Object.keys(o.systems_by_strategy).length) chart($("#strategy"), pie(o.systems_by_strategy));
    else empty("#strategy", "no_plan");
    if (Object.keys(o.systems_by_status).length) chart($("#status"), pie(o.systems_by_status));
    else empty("#status", "no_systems");
    if (!o.waves.length) { empty("#progress", "no_plan"); return; }
    const waves = o.waves.map((w) => `${t("wave")} ${w.index}`);
    chart($("#progress"), { tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: waves },
      yAxis: { type: "value" }, series: [
        { name: t("done"), type: "bar", stack: "w", data: o.waves.map((w) => w.done), color: "#3ccf91" },
        { name: t("failed"), type: "bar", stack: "w", data: o.waves.map((w) => w.failed), color: "#ff5c5c" },
        { name: t("remaining"), type: "bar", stack: "w", data: o.waves.map((w) => w.items - w.done - w.failed), color: "#3aa0ff" }] });
  },

  async utilization(section) {
    const [platforms, forecasts] = await Promise.all([json("/platforms"), json("/forecasts")]);
    if (!platforms.length) { section.innerHTML = `<h1>${esc(t("utilization"))}</h1><p class="note">${esc(t("no_data"))}</p>`; return; }
    const chosen = decodeURIComponent((location.hash.split("?p=")[1] || "")) || platforms[0].name;
    const p = platforms.find((x) => x.name === chosen) || platforms[0];
    const f = forecasts.find((x) => x.platform === p.name);
    section.innerHTML = `<h1>${esc(t("utilization"))}</h1>
      <div class="toolbar"><label>${esc(t("platform"))}<select id="platform">${platforms.map((x) =>
        `<option ${x.name === p.name ? "selected" : ""}>${esc(x.name)}</option>`).join("")}</select></label></div>
      <div class="cards">${kpi("cpu-allocation", `${t("cpu")} ${t("allocation")}`, pct(p.allocation_ratio.vcpus))}
        ${kpi("memory-allocation", `${t("memory")} ${t("allocation")}`, pct(p.allocation_ratio.memory_gb))}
        ${kpi("storage-allocation", `${t("storage")} ${t("allocation")}`, pct(p.allocation_ratio.storage_gb))}
        ${kpi("cpu-usage", `${t("cpu")} ${t("usage")}`, pct(p.use_ratio.vcpus))}
        ${kpi("expansion", t("expansion"), f ? `${f.expansion_hosts} ${t("hosts_unit")}` : "—")}</div>
      <div class="grid"><div class="card"><h2>${esc(t("history"))}</h2><div class="chart tall" id="history"></div>
        <p class="note" id="crossings"></p><p class="note" id="expansions"></p></div>
        <div class="card"><h2>${esc(t("hosts"))}</h2><div class="chart tall" id="hosts"></div></div></div>`;
    $("#platform").addEventListener("change", (e) => { location.hash = `#/utilization?p=${encodeURIComponent(e.target.value)}`; });
    const [history, hosts] = await Promise.all([json(`/platforms/${encodeURIComponent(p.name)}/history`),
      json(`/platforms/${encodeURIComponent(p.name)}/hosts`)]);
    if (history.length) {
      const series = [["vcpus", t("cpu")], ["memory_gb", t("memory")], ["storage_gb", t("storage")]].map(([key, name]) => {
        const points = history.map((d) => [d.day, d.allocation_ratio[key]]);
        const fc = f && f.series.find((s) => s.resource === key);
        if (fc) {  // the forecast: from today's share to the share at the horizon
          const end = new Date(); end.setDate(end.getDate() + f.horizon_days);
          points.push([end.toISOString().slice(0, 10), fc.share_at_horizon]);
        }
        return { name: `${name} ${t("allocation")}`, type: "line", data: points, connectNulls: true, showSymbol: false };
      });
        series[0].markLine = { symbol: "none", label: { formatter: (m) => m.data.xAxis ? t("planned_expansion") : `${Math.round(m.value * 100)}%` },
        data: [{ yAxis: 0.75, name: "75%", lineStyle: { color: "#f5a623" } }, { yAxis: 0.9, name: "90%", lineStyle: { color: "#ff5c5c" } },
          ...(f ? f.expansions : []).map((e) => ({ xAxis: e.day, name: t("planned_expansion"), lineStyle: { color: "#3ccf91", type: "dashed" } }))] };
      chart($("#history"), { tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "time" },
        yAxis: { type: "value", max: (v) => Math.max(1, v.max), axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } }, series });
    } else {
      $("#history").outerHTML = `<p class="note empty" id="history-empty">${esc(t("no_history"))}</p>`;
    }
    $("#expansions").textContent = f && f.expansions.length ? `${t("planned_expansion")}：` + f.expansions.map((e) =>
      `${e.day} +${num(e.amount.vcpus_used, 0)} vCPU · +${num(e.amount.memory_gb, 0)} GB · +${num(e.amount.storage_gb / 1024, 1)} TB`).join("；") : "";
    $("#crossings").textContent = f ? f.series.filter((s) => s.measure === "allocation").map((s) =>
      `${label(s.resource)}: 75% ${s.reaches["75%"] || t("not_within")} · 90% ${s.reaches["90%"] || t("not_within")}`).join("；") : "";
    if (!hosts.length) {
      $("#hosts").outerHTML = `<p class="note empty" id="hosts-empty">${esc(t("no_hosts"))}</p>`;
      return;
    }
    const sorted = [...hosts].sort((a, b) => (b.allocation_ratio ?? 0) - (a.allocation_ratio ?? 0));
    chart($("#hosts"), { tooltip: { trigger: "axis" }, legend: {}, grid: { left: "20%" },
      yAxis: { type: "category", data: sorted.map((h) => h.name), inverse: true },
      xAxis: { type: "value", max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
      series: [{ name: `${t("cpu")} ${t("allocated")}`, type: "bar", data: sorted.map((h) => h.allocation_ratio) },
        { name: t("load"), type: "bar", data: sorted.map((h) => h.cpu_load) }] });
  },

  async rooms(section) {
    const flags = await json("/room-flags");
    const zh = state.lang === "zh";
    const costs = flags.some((f) => f.annual_cost_cny != null);
    const head = [[t("room"), (f) => esc(f.room)], [t("name"), (f) => esc(f.name)],
      [t("score"), (f) => f.score.toFixed(2), "num"]];
    if (costs) head.push([t("annual_cost"), (f) => wan(f.annual_cost_cny), "num"]);
    const reasons = [t("reasons"), (f) => esc((zh ? f.reasons_zh : f.reasons_en).join(zh ? "；" : "; "))];
    const held = [t("blocked_by"), (f) => f.blockers.map((b) => `${esc(b.system)}：${esc(zh ? b.reason_zh : b.reason_en)}`).join("<br>")];
    const unblock = [t("unblock"), (f) => f.blockers.map((b) => `${esc(b.system)}：${esc(zh ? b.unblock_zh : b.unblock_en)}`).join("<br>")];
    section.innerHTML = `<h1>${esc(t("rooms"))}</h1>
      <div class="card"><h2>${esc(t("closable_rooms"))}</h2>${table("rooms-table", [...head, reasons], flags.filter((f) => f.closable))}</div>
      <div class="card"><h2>${esc(t("blocked_rooms"))}</h2>${table("blocked-rooms-table", [...head, held, unblock], flags.filter((f) => !f.closable))}</div>`;
  },

  async waves(section) {
    const response = await api("/plans/current");
    if (!response.ok) { section.innerHTML = `<h1>${esc(t("waves"))}</h1><p class="note empty">${esc(t("no_plan"))}</p>`; return; }
    const plan = await response.json();
    section.innerHTML = `<h1>${esc(t("waves"))} <span class="note">${esc(plan.plan)}@${plan.version}</span></h1>
      <div class="card"><div class="chart" id="gantt"></div></div><div class="card" id="wave-items"></div>`;
    const day = (d) => new Date(`${d}T00:00:00`).getTime();
    chart($("#gantt"), { tooltip: { formatter: (p) => `${t("wave")} ${p.value[0] + 1}: ${p.value[3]}/${p.value[4]} ${t("done")}` },
      xAxis: { type: "time" }, yAxis: { type: "category", inverse: true, data: plan.waves.map((w) => `${t("wave")} ${w.index}`) },
      series: [{ type: "custom", renderItem: (params, api) => {
        const start = api.coord([api.value(1), api.value(0)]); const end = api.coord([api.value(2), api.value(0)]);
        const height = api.size([0, 1])[1] * 0.6; const done = api.value(4) ? api.value(3) / api.value(4) : 0;
        return { type: "group", children: [
          { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: end[0] - start[0], height }, style: { fill: "#24395a" } },
          { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: (end[0] - start[0]) * done, height }, style: { fill: "#3ccf91" } }] };
      }, encode: { x: [1, 2], y: 0 },
      data: plan.waves.map((w, i) => [i, day(w.start), day(w.end), w.items.filter((x) => x.status === "done").length, w.items.length]) }] });
    $("#wave-items").innerHTML = plan.waves.map((w) => `<h2>${esc(t("wave"))} ${w.index} · ${esc(w.start)} → ${esc(w.end)}
      · ${esc(t("rooms_closing_after"))}: ${esc(w.rooms_closing.join(", ") || t("none"))}</h2>` + table(`wave-${w.index}`,
      [[t("system"), (i) => esc(i.system)], [t("name"), (i) => esc(i.name)], [t("strategy"), (i) => esc(label(i.strategy))],
       [t("status"), (i) => `<span class="chip ${esc(i.status)}">${esc(label(i.status))}</span>`]], w.items)).join("");
  },

  async savings(section) {
    const response = await api(`/savings?lang=${state.lang}`);
    if (!response.ok) {
      const detail = (await response.json()).detail;
      section.innerHTML = `<h1>${esc(t("savings"))}</h1><p class="note empty">${esc(response.status === 404 ? t("no_plan") : detail)}</p>`;
      return;
    }
    const report = await response.json();
    const w = (v) => num(v, 1);
    section.innerHTML = `<h1>${esc(t("savings"))} <span class="note">${esc(report.plan)}</span></h1>
      <div class="toolbar"><button id="download" type="button">${esc(t("download"))}</button>
        <span class="note">${esc(t("rule_note"))}</span></div>
      <p class="headline" id="savings-headline">${esc(report.headline)}</p>
      <div class="grid"><div class="card"><h2>${esc(t("fiscal"))}</h2><div class="chart" id="years"></div>
        ${table("years-table", [[t("year"), (y) => y.year], [t("baseline"), (y) => w(y.baseline_wan), "num"],
          [t("paid"), (y) => w(y.room_cost_paid_wan), "num"], [t("lines_carried"), (y) => w(y.lines_carried_wan), "num"],
          [t("refresh_due"), (y) => w(y.refresh_due_wan), "num"], [t("cloud"), (y) => w(y.cloud_cost_wan), "num"],
          [t("hosting"), (y) => w(y.hosting_cost_wan), "num"], [t("saving"), (y) => w(y.net_saving_wan), "num"]],
          report.years)}
        <ul class="note">${report.assumptions.concat(report.warnings).map((a) => `<li>${esc(a)}</li>`).join("")}</ul></div>
      <div class="card"><h2>${esc(t("per_room"))}</h2>${table("savings-rooms", [[t("room"), (r) => esc(r.room)],
        [t("annual_cost"), (r) => w(r.annual_cost_wan), "num"], [t("closes_on"), (r) => esc(r.closes_on || "—")],
        [t("stops_from"), (r) => esc(r.stops_costing_from || "—")], [t("lines"), (r) => esc(r.lines_note)],
        [t("cloud_cost"), (r) => w(r.cloud_cost_wan), "num"]], report.rooms)}</div></div>`;
    chart($("#years"), { tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: report.years.map((y) => y.year) },
      yAxis: { type: "value", name: t("wan") }, series: [["paid", "room_cost_paid_wan"], ["cloud", "cloud_cost_wan"],
        ["saving", "net_saving_wan"]].map(([key, field]) => ({ name: t(key), type: "bar", data: report.years.map((y) => y[field]) })) });
    $("#download").addEventListener("click", async () => {
      const blob = await (await api("/savings/xlsx")).blob();
      const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: `savings-${report.plan}.xlsx` });
      document.body.appendChild(link); link.click(); link.remove();
    });
  },

  async requests(section) {
    const [page, platforms] = await Promise.all([json("/capacity-requests?limit=200"),
      state.me.permissions.includes("dashboard:read") ? json("/platforms") : []]);
    const canAsk = state.me.permissions.includes("requests:write");
    const canDecide = state.me.permissions.includes("requests:decide");
    section.innerHTML = `<h1>${esc(t("requests"))}</h1>
      ${canAsk ? `<div class="card"><h2>${esc(t("new_request"))}</h2><form class="inline" id="ask">
        <label>${esc(t("department"))}<input name="department_code" required value="${esc(state.me.department_code || "")}"
          ${state.me.department_code ? "readonly" : ""}></label>
        <label>${esc(t("platform"))}<select name="platform">${platforms.map((p) => `<option>${esc(p.name)}</option>`).join("")}</select></label>
        <label>${esc(t("vcpus"))}<input name="vcpus" type="number" min="0" value="0"></label>
        <label>${esc(t("memory_gb"))}<input name="memory_gb" type="number" min="0" value="0"></label>
        <label>${esc(t("storage_gb"))}<input name="storage_gb" type="number" min="0" value="0"></label>
        <label>${esc(t("purpose"))}<input name="purpose" required maxlength="500"></label>
        <label>${esc(t("for_system"))}<input name="system" maxlength="64" list="ask-systems" autocomplete="off"></label>
        <datalist id="ask-systems"></datalist>
        <span class="note">${esc(t("or_state"))}</span>
        <label>${esc(t("mlps_level"))}<select name="mlps_level"><option value="">—</option>${[1, 2, 3, 4].map((n) => `<option>${n}</option>`).join("")}</select></label>
        <label>${esc(t("is_classified"))}<select name="classified"><option value="">—</option><option value="false">${esc(t("no"))}</option><option value="true">${esc(t("yes"))}</option></select></label>
        <button type="submit">${esc(t("submit"))}</button></form><p class="error" id="ask-error" role="alert"></p></div>` : ""}
      <div class="card"><div class="toolbar"><h2>${esc(t("all_requests"))}</h2>
        ${canDecide ? `<button class="secondary" id="review" type="button">${esc(t("review"))}</button>` : ""}</div>
        ${table("requests-table", [["#", (r) => r.id], [t("department"), (r) => esc(r.department_code)],
          [t("platform"), (r) => esc(r.platform)],
          [t("for_system"), (r) => `${esc(r.system_code || "—")} · ${esc(t("mlps_level"))} ${esc(r.mlps_level ?? "?")}${r.classified ? ` · ${esc(t("is_classified"))}` : ""}`],
          [t("vcpus"), (r) => num(r.vcpus), "num"],
          [t("memory_gb"), (r) => num(r.memory_gb), "num"], [t("storage_gb"), (r) => num(r.storage_gb), "num"],
          [t("purpose"), (r) => esc(r.purpose)], [t("status"), (r) => `<span class="chip ${esc(r.status)}">${esc(label(r.status))}</span>`],
          [t("reason"), (r) => esc((state.lang === "zh" ? r.reason_zh : r.reason_en) || "")], [t("due"), (r) => `${esc(r.due)}${r.overdue ? ` <span class="chip failed">${esc(t("overdue"))}</span>` : ""}`]],
          page.items)}</div>`;
    const form = $("#ask");
    if (form) form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { department_code: form.department_code.value, platform: form.platform.value, vcpus: +form.vcpus.value,
        memory_gb: +form.memory_gb.value, storage_gb: +form.storage_gb.value, purpose: form.purpose.value };
      const system = form.system.value.trim();
      if (system) body.system = system;
      else if (form.mlps_level.value && form.classified.value) {
        body.mlps_level = +form.mlps_level.value; body.classified = form.classified.value === "true";
      } else { $("#ask-error").textContent = t("ask_for_what"); return; }
      const response = await api("/capacity-requests", { method: "POST", body });
      if (!response.ok) {
        const detail = (await response.json()).detail;
        $("#ask-error").textContent = typeof detail === "string" ? detail : detail.map((d) => `${d.loc.slice(-1)}: ${d.msg}`).join("; ");
        return;
      }
      await render();
    });
    if (form) {  // the department's systems as the user types (the API scopes a department user to its own)
      const choices = $("#ask-systems");
      let asked = "";
      form.system.addEventListener("input", async () => {
        const q = form.system.value.trim();
        if (q.length < 2 || q === asked) return;
        asked = q;
        const found = await json(`/systems?limit=20&q=${encodeURIComponent(q)}`);
        if (asked !== q) return;
        choices.innerHTML = found.items.filter((s) => !form.department_code.value || s.department_code === form.department_code.value)
          .map((s) => `<option value="${esc(s.code)}">${esc(s.name)}</option>`).join("");
      });
    }
    const review = $("#review");
    if (review) review.addEventListener("click", async () => { await api("/capacity-requests/review", { method: "POST" }); await render(); });
  },
};

$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("shangyun.lang", state.lang);
  render();
});
$("#logout").addEventListener("click", logout);
window.addEventListener("hashchange", render);
render();
