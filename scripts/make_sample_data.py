"""Write the committed sample files in data/ (run once; the outputs are committed, this records how).

    python scripts/make_sample_data.py

photo.jpg is drawn on a canvas by Debian's Chromium (the browser tests' browser) and encoded by it as a
baseline JPEG: Pillow is not a dependency of the workbook. sample.pdf is a one-page PDF written by hand
(objects, cross-reference table and trailer with exact byte offsets). notes.txt is plain UTF-8 text.
"""

from __future__ import annotations

import base64
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
CHROMIUM = "/usr/bin/chromium"

# A sunset-like gradient with a "sun" and hills: smooth areas and edges, like a small photo.
_CANVAS_JS = """() => {
  const c = document.createElement('canvas'); c.width = 320; c.height = 240;
  const g = c.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, 240);
  sky.addColorStop(0, '#1d3b6f'); sky.addColorStop(0.6, '#f29e4c'); sky.addColorStop(1, '#f7d26a');
  g.fillStyle = sky; g.fillRect(0, 0, 320, 240);
  g.fillStyle = '#ffe9a8'; g.beginPath(); g.arc(220, 150, 34, 0, 2 * Math.PI); g.fill();
  g.fillStyle = '#2f4f3a'; g.beginPath(); g.moveTo(0, 240); g.lineTo(0, 170);
  g.quadraticCurveTo(90, 120, 170, 185); g.quadraticCurveTo(250, 230, 320, 175);
  g.lineTo(320, 240); g.fill();
  g.fillStyle = '#ffffff'; g.font = '14px sans-serif'; g.fillText('workbook sample photo', 10, 230);
  return c.toDataURL('image/jpeg', 0.85);
}"""


def photo() -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            url = browser.new_page().evaluate(_CANVAS_JS)
        finally:
            browser.close()
    return base64.b64decode(url.split(",", 1)[1])


def pdf(text: str = "OSS direct-upload workbook: sample PDF (one page)") -> bytes:
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


NOTES = """Notes from the OSS direct-upload workbook (sample text file).

A client uploads straight to OSS with temporary credentials (临时凭证), a signed URL (签名URL)
or a form (表单上传); the app server never relays the bytes and never hands out its AccessKey.
"""


def main() -> None:
    DATA.mkdir(exist_ok=True)
    (DATA / "photo.jpg").write_bytes(photo())
    (DATA / "sample.pdf").write_bytes(pdf())
    (DATA / "notes.txt").write_text(NOTES, encoding="utf-8")
    for name in ("photo.jpg", "sample.pdf", "notes.txt"):
        print(name, (DATA / name).stat().st_size, "bytes")  # noqa: T201 (a script reporting what it wrote)


if __name__ == "__main__":
    main()
