// Small enhancements only: every core flow works without JavaScript (CSP allows this file, no
// inline script). Buttons with data-copy="#selector" copy that field's value to the clipboard.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(done, () => {});
  } else if (document.execCommand("copy")) {
    done();
  }
});

// A form that came back with errors: its summary takes the focus (it links to each field), and
// the address becomes the page the form lives on, so a reload shows it instead of posting again.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  const page = document.body.dataset.pageUrl;
  if (page && history.replaceState) history.replaceState(null, "", page);
});

// Times: the server writes UTC (<time datetime="…Z">); show them in the reader's own zone. In
// lists (`data-relative`) they say "today", "3 days ago" ("time": today's as a time of day),
// with the exact time in the tooltip. Without JavaScript the text shows as written.
document.addEventListener("DOMContentLoaded", () => {
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const today = day(new Date());
  const relative = (when, kind) => {
    const days = Math.round((today - day(when)) / 86400000);
    if (days <= 0) {
      return kind === "time" ? when.toLocaleTimeString(undefined, { timeStyle: "short" }) : "today";
    }
    if (days === 1) return "yesterday";
    if (days < 14) return `${days} days ago`;
    if (days < 60) return `${Math.floor(days / 7)} weeks ago`;
    return when.toLocaleDateString(undefined, { dateStyle: "medium" });
  };
  for (const el of document.querySelectorAll("time[datetime$='Z']")) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    const exact = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    const kind = el.dataset.relative;
    el.title = kind === undefined ? el.textContent : exact;
    el.textContent = kind === undefined ? exact : relative(when, kind);
  }
});

// Share links: this browser remembers what it sent through a link (reference, title and the
// private page), lists it above the board and marks its rows. Kept in localStorage only:
// nothing about it is sent to the server.
document.addEventListener("DOMContentLoaded", () => {
  const keyFor = (board) => `porchlight-mine:${board}`;
  const read = (board) => {
    try {
      const list = JSON.parse(localStorage.getItem(keyFor(board)) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (_) {
      return [];
    }
  };
  const sent = document.querySelector("[data-mine-ref]");
  if (sent) {
    const board = sent.dataset.board;
    const ref = sent.dataset.mineRef;
    const list = read(board).filter((m) => m.ref !== ref);
    list.unshift({ ref, title: sent.dataset.mineTitle, url: location.pathname });
    try {
      localStorage.setItem(keyFor(board), JSON.stringify(list.slice(0, 20)));
    } catch (_) { /* storage off: nothing to remember */ }
  }
  const box = document.getElementById("mine");
  if (!box || !box.dataset.board) return;
  const board = box.dataset.board;
  const mine = read(board).filter((m) => typeof m.url === "string" && m.url.startsWith(`${board}/t/`));
  if (!mine.length) return;
  const ul = box.querySelector("ul");
  for (const m of mine) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = m.url;
    a.textContent = `${m.ref} ${m.title || ""}`;
    li.append(a);
    ul.append(li);
  }
  box.hidden = false;
  box.querySelector("[data-forget-mine]")?.addEventListener("click", () => {
    try {
      localStorage.removeItem(keyFor(board));
    } catch (_) { /* nothing stored */ }
    box.hidden = true;
    for (const row of document.querySelectorAll(".ticket-row.mine")) {
      row.classList.remove("mine");
      row.querySelector(".tag-mine")?.remove();
    }
  });
  const refs = new Set(mine.map((m) => m.ref));
  for (const row of document.querySelectorAll(".ticket-row[data-ref]")) {
    if (!refs.has(row.dataset.ref)) continue;
    row.classList.add("mine");
    const tag = document.createElement("span");
    tag.className = "tag tag-mine";
    tag.textContent = "Yours";
    row.querySelector(".ticket-title").append(" ", tag);
  }
});

// Settings: the colour picker and the hex field follow each other, and the preview loads the
// same brand stylesheet clients get (/brand/rrggbb.css) for the colour being chosen.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("f-accent_color");
  const picker = document.getElementById("f-accent_picker");
  const sheet = document.getElementById("brand-sheet");
  if (!field || !picker || !sheet) return;
  picker.hidden = false;
  const hex = (v) => (/^#[0-9a-f]{6}$/i.test(v.trim()) ? v.trim().toLowerCase() : null);
  const show = (v) => { sheet.href = `/brand/${v.slice(1)}.css`; };
  if (hex(field.value)) {
    picker.value = hex(field.value);
    show(hex(field.value));
  }
  picker.addEventListener("input", () => {
    field.value = picker.value;
    show(picker.value);
  });
  field.addEventListener("input", () => {
    const v = hex(field.value);
    if (!v) return;
    picker.value = v;
    show(v);
  });
});
