// Upload with a progress bar; without JavaScript the form posts as usual.
(function () {
  var form = document.getElementById("upload-form");
  if (!form) return;
  var drop = document.getElementById("drop"), input = document.getElementById("files");
  var bar = document.getElementById("progress"), status = document.getElementById("upload-status");
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { input.files = e.dataTransfer.files; });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!input.files.length) { status.textContent = form.dataset.empty || "—"; return; }
    var data = new FormData(form), xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false; bar.value = 0;
    xhr.upload.onprogress = function (p) { if (p.lengthComputable) bar.value = Math.round(100 * p.loaded / p.total); };
    xhr.onload = function () {
      var reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (err) { reply = { message: xhr.statusText }; }
      status.textContent = reply.message || "";
      // Analysed: the page reloads with the new verdict and says this once
      // more at its top; anything else stays said here.
      if (xhr.status === 200) { window.location.reload(); } else { bar.hidden = true; }
    };
    xhr.onerror = function () { status.textContent = "upload failed"; };
    xhr.send(data);
  });
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = document.getElementById(b.dataset.target).textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text);
    });
  });
})();
