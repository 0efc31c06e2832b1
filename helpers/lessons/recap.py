"""The recap (notebook 11): what each flow is for, side by side, and each flow run once more, live.

    recap.flows_table()        # Markdown: flow, when to use it, what the client holds, lifetime, notebook
    recap.tour(book, alice)    # the five seed flows through alice's app client, one row each

The table's facts are the workbook's own (the app server's 15-minute tokens, its default signed-URL
expiry), said where they come from. The tour uses the sample files in data/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.display import Markdown

from helpers import sample_data
from helpers.displays import show_table
from helpers.protocol.scopes import user_prefix

if TYPE_CHECKING:
    from helpers.client.mobile import MobileClient
    from helpers.workbook import Book

FOLDER = "recap"
PHOTO_KEY = f"{FOLDER}/photo.jpg"
NOTES_KEY = f"{FOLDER}/notes.txt"
PDF_KEY = f"{FOLDER}/sample.pdf"

FLOWS: list[dict[str, str]] = [
    {"flow": "Upload with STS (临时凭证授权的上传)",
     "when": "apps with an OSS SDK: many or large files, multipart, resume",
     "holds": "AccessKeyId + AccessKeySecret + SecurityToken, for its own folder, upload actions only",
     "lifetime": "the token: 15 min here (900 s to the role's maximum); cached, refreshed before Expiration",
     "notebook": "[01](01_upload_with_sts.ipynb), [09](09_large_files.ipynb)"},
    {"flow": "Upload with a signed URL (签名URL授权的上传)",
     "when": "one file, no SDK (a web view, a small device); the app server picks the key and type",
     "holds": "one URL: method, key, Content-Type, expiry and signature; no credentials",
     "lifetime": "the URL's expiry (the app server's default; never past its signing token)",
     "notebook": "[02](02_upload_with_signed_url.ipynb)"},
    {"flow": "Form upload (表单上传, PostObject)",
     "when": "browsers: an HTML form posts the file; size, type and key limits in the policy",
     "holds": "the policy and its signature (form fields); no credentials",
     "lifetime": "the policy's expiration",
     "notebook": "[03](03_form_upload.ipynb)"},
    {"flow": "Upload callback (上传回调)",
     "when": "the app server must learn of each upload (record it, answer the client)",
     "holds": "nothing more: OSS calls the app server, which verifies OSS's RSA signature",
     "lifetime": "one request; OSS waits 5 s, never retries",
     "notebook": "[04](04_upload_callback.ipynb)"},
    {"flow": "Download with STS (临时凭证授权的下载)",
     "when": "apps with an SDK reading many of the user's files, ranges",
     "holds": "a download-scope token: GetObject in its own folder",
     "lifetime": "15 min here, like the upload token",
     "notebook": "[05](05_download_with_sts.ipynb)"},
    {"flow": "Download with a signed URL (签名URL授权的下载)",
     "when": "one object, no SDK: a link, an <img>, a shared file, a download name",
     "holds": "one GET URL",
     "lifetime": "the URL's expiry",
     "notebook": "[06](06_download_with_signed_url.ipynb)"},
    {"flow": "Permission control (权限控制)",
     "when": "always: every token and URL is confined by the session policy",
     "holds": "(what the rows above hold, narrowed to users/<you>/*)",
     "lifetime": "-",
     "notebook": "[07](07_permission_control.ipynb), [08](08_token_console.ipynb)"},
]


def flows_table() -> Markdown:
    """The flows as a Markdown table (links to their notebooks work in JupyterLab and the HTML export)."""
    head = "| flow | when to use it | what the client holds | lifetime | notebook |\n|---|---|---|---|---|\n"
    rows = "".join(f"| {f['flow']} | {f['when']} | {f['holds']} | {f['lifetime']} | {f['notebook']} |\n"
                   for f in FLOWS)
    return Markdown(head + rows)


def tour(book: Book, client: MobileClient) -> None:
    """Run the five seed flows once through the app's client, one row each (HTTP status, bytes)."""
    photo = client.upload(PHOTO_KEY, sample_data.PHOTO, content_type="image/jpeg")
    notes = client.upload_signed(NOTES_KEY, sample_data.TEXT.read_bytes(), "text/plain")
    form = client.upload_form(PDF_KEY, sample_data.PDF.read_bytes(), "application/pdf", callback=True)
    got = client.download(PHOTO_KEY)
    link = client.download_signed(NOTES_KEY, download_name="notes.txt")
    recorded = [u["key"] for u in client.list_uploads() if u["key"] == form.key]
    rows: list[dict[str, Any]] = [
        {"flow": "1 upload with STS", "request": "PUT (oss2, STS)", "key": photo.key,
         "HTTP": photo.status, "bytes": photo.size},
        {"flow": "2 upload with a signed URL", "request": "PUT (signed URL)", "key": notes.key,
         "HTTP": notes.status, "bytes": notes.size},
        {"flow": "2 form upload + 3 callback", "request": "POST (PostObject)", "key": form.key,
         "HTTP": form.status, "bytes": form.size},
        {"flow": "4 download with STS", "request": "GET (oss2, STS)", "key": got.key,
         "HTTP": got.status, "bytes": got.size},
        {"flow": "5 download with a signed URL", "request": "GET (signed URL)", "key": link.key,
         "HTTP": link.status, "bytes": link.size},
    ]
    show_table(rows)
    print(f"the app server recorded the form upload from OSS's callback: {'yes' if recorded else 'no'}")


def created_keys(user: str = "alice") -> list[str]:
    """What `tour` stores (the notebook's Cleaning up deletes it)."""
    return [f"{user_prefix(user)}{k}" for k in (PHOTO_KEY, NOTES_KEY, PDF_KEY)]
