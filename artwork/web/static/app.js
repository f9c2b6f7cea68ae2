// artwork pages: progressive enhancement only. Every form works without this script; with it,
// plays and approvals post in the background and the page says what happened, uploads show
// their progress, and arrow keys move between homepage tiles and rows.
"use strict";

function say(message) {
  const status = document.getElementById("status");
  if (status) status.textContent = message;
}

async function postForm(form) {
  const response = await fetch(form.action, {
    method: "POST",
    // url-encoded, as the form itself posts: only uploads go as multipart (they stream)
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let body = {};
  try { body = await response.json(); } catch (e) { body = {}; }
  if (!response.ok) {
    const error = body.error || {};
    throw new Error(error.message || `request failed (${response.status})`);
  }
  return body;
}

function wirePlays() {
  for (const form of document.querySelectorAll("form.play")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const tile = form.closest("li.tile");
      const note = tile && tile.querySelector(".played-note");
      try {
        const result = await postForm(form);
        if (tile) tile.dataset.played = result.recorded ? "recorded" : "repeat";
        if (note) { note.textContent = result.message; note.hidden = false; }
        say(result.message + ". Reload the page to see the bandit's next choice.");
      } catch (error) {
        if (note) { note.textContent = error.message; note.hidden = false; }
        say(error.message);
      }
    });
  }
}

function wireStatusForms() {
  for (const form of document.querySelectorAll("form.status-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const article = form.closest("article.variant");
      try {
        const result = await postForm(form);
        if (article) {
          article.className = `variant status-${result.status}`;
          const state = article.querySelector(".state");
          if (state) { state.textContent = result.status; state.dataset.status = result.status; }
          for (const button of article.querySelectorAll("form.status-form button")) {
            const wanted = button.form.querySelector("input[name=status]").value;
            button.disabled = wanted === result.status;
          }
        }
        say(`Variant ${result.variant_id} is now ${result.status}`);
      } catch (error) {
        say(error.message);
      }
    });
  }
}

function showUploaded(text, bar, body) {
  bar.value = 100;
  text.textContent = "";
  const link = document.createElement("a");
  link.href = body.page || `/editor/titles/${encodeURIComponent(body.title_id)}`;
  link.textContent = `extracted ${body.title_id}: review its variants`;
  text.appendChild(link);
}

// An upload answered 202 with a job: follow GET /v1/jobs/{id} until it succeeds or fails.
function followJob(job, text, bar) {
  const poll = async () => {
    let state = {};
    try {
      const response = await fetch(`/v1/jobs/${encodeURIComponent(job.job_id)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      state = await response.json();
      if (!response.ok) throw new Error((state.error && state.error.message) || `job lookup failed (${response.status})`);
    } catch (error) {
      text.textContent = error.message;
      return;
    }
    if (state.state === "succeeded") { showUploaded(text, bar, state); return; }
    if (state.state === "failed") { bar.value = 0; text.textContent = `extraction failed: ${state.message}`; return; }
    bar.value = Math.round(100 * (state.progress || 0));
    text.textContent = `${state.state}: extracting artwork, ${bar.value}%`;
    setTimeout(poll, 1000);
  };
  poll();
}

function wireUpload() {
  const form = document.querySelector("form.upload");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const box = form.querySelector(".progress");
    const bar = form.querySelector("progress");
    const text = form.querySelector(".progress-text");
    box.hidden = false;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    const token = form.querySelector("input[name=csrf_token]");
    if (token && token.value) request.setRequestHeader("X-CSRF-Token", token.value);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
        text.textContent = `uploading ${bar.value}%`;
      }
    });
    request.upload.addEventListener("load", () => {
      bar.removeAttribute("value");
      text.textContent = "uploaded; extracting artwork…";
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status === 202 && body.job_id) {
        followJob(body, text, bar);
      } else if (request.status >= 200 && request.status < 300) {
        showUploaded(text, bar, body);
      } else {
        bar.value = 0;
        text.textContent = (body.error && body.error.message) || `upload failed (${request.status})`;
      }
    });
    request.addEventListener("error", () => { text.textContent = "upload failed: no answer"; });
    // One "genre" field per genre, as POST /v1/titles takes them.
    const data = new FormData(form);
    const genres = String(data.get("genre") || "").split(",").map((g) => g.trim()).filter(Boolean);
    data.delete("genre");
    const video = data.get("video");
    data.delete("video");
    for (const genre of genres) data.append("genre", genre);
    data.append("video", video);  // last: a streaming upload reads the fields first
    request.send(data);
  });
}

function wireArrowKeys() {
  const rows = [...document.querySelectorAll("ul.row")].map((row) => [...row.querySelectorAll(".tile-button")]);
  document.addEventListener("keydown", (event) => {
    const current = document.activeElement;
    let r = -1, c = -1;
    rows.forEach((row, i) => { const j = row.indexOf(current); if (j >= 0) { r = i; c = j; } });
    if (r < 0) return;
    let target = null;
    if (event.key === "ArrowRight") target = rows[r][Math.min(c + 1, rows[r].length - 1)];
    else if (event.key === "ArrowLeft") target = rows[r][Math.max(c - 1, 0)];
    else if (event.key === "ArrowDown" && r + 1 < rows.length) target = rows[r + 1][Math.min(c, rows[r + 1].length - 1)];
    else if (event.key === "ArrowUp" && r > 0) target = rows[r - 1][Math.min(c, rows[r - 1].length - 1)];
    if (target) { event.preventDefault(); target.focus(); target.scrollIntoView({ block: "nearest", inline: "nearest" }); }
  });
}

// Mark how many images decoded, so a browser test (or a person) can tell broken images apart.
window.addEventListener("load", () => {
  const images = [...document.querySelectorAll("img")];
  document.body.dataset.imagesTotal = images.length;
  document.body.dataset.imagesLoaded = images.filter((i) => i.naturalWidth > 0).length;
});

document.addEventListener("DOMContentLoaded", () => {
  wirePlays();
  wireStatusForms();
  wireUpload();
  wireArrowKeys();
});
