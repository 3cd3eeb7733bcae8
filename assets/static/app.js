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

// Times: the server writes UTC (<time datetime="…Z">); show them in the reader's own zone.
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("time[datetime$='Z']")) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    el.title = el.textContent;
    el.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
});
