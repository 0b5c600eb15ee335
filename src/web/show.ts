// Shows a paid response in place of the 402 page, at the same URL: an HTML answer becomes the
// document itself; JSON is pretty-printed and text shown as text (never parsed as HTML); an
// image is shown and anything else offered as a download. A redirect (which fetch keeps opaque,
// so the payment headers never follow it) is left to the browser: the session cookie the paid
// answer set pays the reload.
export async function show(res: Response): Promise<void> {
  if (res.type === "opaqueredirect") {
    location.reload();
    return;
  }
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (type.includes("text/html") || type.includes("application/xhtml")) {
    const html = await res.text();
    document.open();
    document.write(html);
    document.close();
    return;
  }
  document.documentElement.innerHTML = "<head><meta charset='utf-8'><title></title></head><body></body>";
  document.title = location.pathname;
  const body = document.body;
  if (type.includes("json") || type.startsWith("text/") || type === "") {
    let text = await res.text();
    if (type.includes("json")) {
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // shown as it came
      }
    }
    const pre = document.createElement("pre");
    pre.style.whiteSpace = "pre-wrap";
    pre.textContent = text;
    body.appendChild(pre);
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  if (type.startsWith("image/")) {
    const img = document.createElement("img");
    img.src = url;
    img.alt = location.pathname;
    body.appendChild(img);
  } else {
    const a = document.createElement("a");
    a.href = url;
    a.download = location.pathname.split("/").pop() || "download";
    a.textContent = `Download ${a.download}`;
    body.appendChild(a);
  }
}
