// File upload for the demo (anywidget). Unlike ipywidgets' FileUpload, it checks the
// size in the browser first: a file over the limit is refused by name and size, and its
// bytes are never sent (a large message would close the kernel's websocket and the page).

function render({ model, el }) {
  const input = document.createElement("input");
  input.type = "file";
  input.accept = model.get("accept");
  input.style.display = "none";
  const button = document.createElement("button");
  button.className = "ser-upload jupyter-button";
  button.textContent = "Upload audio";
  const label = document.createElement("span");
  label.className = "ser-upload-name";
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", async () => {
    const file = input.files[0];
    input.value = ""; // the same file chosen again is a new upload
    if (!file) return;
    label.textContent = file.name;
    const serial = model.get("serial") + 1;
    if (file.size > model.get("max_bytes")) {
      model.set("refused", { name: file.name, size: file.size, serial });
    } else {
      const buffer = await file.arrayBuffer();
      model.set("name", file.name);
      model.set("data", new DataView(buffer));
    }
    model.set("serial", serial);
    model.save_changes();
  });
  el.classList.add("ser-uploader");
  el.append(input, button, label);
}

export default { render };
