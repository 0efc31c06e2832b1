"""Exercise of notebook 00: choose the flow for four apps, using the flow chooser's limits.

The answer maps each scenario to one of `FLOWS`. A wrong choice is explained by the limit or need
that rules it out (size of one request, who runs an SDK, who must learn of the upload). The signed
URL scenario is then proved with real calls: the app server signs a PUT for alice and this kernel
uploads `data/photo.jpg` with plain HTTP, no SDK and no credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.exercises.marks import Marks, not_answered

if TYPE_CHECKING:
    from helpers.workbook import Book

FLOWS = ("sts", "signed url", "form", "callback")

SCENARIOS = {
    "video_app": "An Android app uploads videos of up to 20 GB and resumes after the network drops.",
    "camera": "A camera with only an HTTP stack (no OSS SDK, no clock to sign with) uploads one snapshot "
              "to a key the app server picks.",
    "web_page": "A web page lets users pick any file of at most 10 MB; the browser posts it, and the key "
                "must stay under the user's folder whatever file name the browser sends.",
    "orders": "The app server must record each upload (key, size) the moment OSS stores it, and the phone "
              "must get the app server's record id back in the upload's own answer.",
}
EXPECTED = {"video_app": "sts", "camera": "signed url", "web_page": "form", "orders": "callback"}

# Why a wrong choice does not fit: (scenario, chosen flow) -> the limit or need that rules it out.
WHY_NOT = {
    "video_app": {
        "signed url": "a signed URL authorises one request, and one PutObject carries at most 5 GB; 20 GB "
                      "needs a multipart upload (many requests, resumable), which an SDK does with "
                      "temporary credentials",
        "form": "one PostObject carries at most 5 GB and cannot resume; 20 GB needs a multipart upload",
        "callback": "a callback tells the app server about an upload; it does not authorise one (and the "
                    "20 GB still need multipart with temporary credentials)",
    },
    "camera": {
        "sts": "temporary credentials need an OSS SDK (or your own signing code) on the device to sign "
               "each request; the camera has only plain HTTP",
        "form": "a form upload is a multipart/form-data POST built from a policy, a browser's job; one "
                "plain PUT to a URL the app server signed is all the camera can do",
        "callback": "a callback does not authorise the upload; the camera still needs a URL it can PUT to",
    },
    "web_page": {
        "sts": "handing temporary credentials to a page means running an SDK in the browser with them; a "
               "signed form policy needs no SDK and pins the folder and size itself",
        "signed url": "a signed URL fixes the key in advance; the page's file name is chosen in the browser, "
                      "and a form policy's starts-with condition allows any name under the folder with a "
                      "content-length-range for the 10 MB",
        "callback": "a callback does not authorise the upload; the page still needs a form policy",
    },
    "orders": {
        "sts": "with temporary credentials OSS never tells the app server about the upload; only an "
               "upload callback makes OSS call the app server and relay its answer to the phone",
        "signed url": "a signed URL alone never tells the app server about the upload; add an upload "
                      "callback to it",
        "form": "a form alone never tells the app server about the upload; add an upload callback to it",
    },
}

KEY = "users/alice/camera/snapshot.jpg"


def solution(book: Book | None = None) -> dict[str, str]:
    """The reference answer: one flow per scenario."""
    return dict(EXPECTED)


def created_keys() -> list[str]:
    """What a solved run leaves in the bucket (the camera's snapshot)."""
    return [KEY]


def _normal(value: Any) -> str:
    text = str(value).strip().lower().replace("_", " ").replace("-", " ")
    return {"signed": "signed url", "signedurl": "signed url", "url": "signed url", "post": "form",
            "postobject": "form", "form upload": "form", "upload callback": "callback",
            "temporary credentials": "sts", "sts credentials": "sts"}.get(text, text)


def check(book: Book, answer: Any, *, strict: bool = False) -> bool:
    """Check the answer scenario by scenario, explaining a wrong choice by the limit that rules it
    out; on a right camera answer, prove it: a signed PUT with plain HTTP uploads data/photo.jpg."""
    if not_answered(answer):
        return False
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict {scenario: flow}", f"got {type(answer).__name__}")
        return marks.finish(strict=strict)
    unknown = sorted(set(answer) - set(SCENARIOS))
    if unknown:
        marks.expect(False, "only the four scenarios are answered",
                     f"unknown keys {unknown}; the scenarios are {sorted(SCENARIOS)}")
    for name, want in EXPECTED.items():
        got = _normal(answer.get(name, ""))
        if got not in FLOWS:
            marks.expect(False, f"{name}: one of {', '.join(FLOWS)}", f"got {answer.get(name)!r}")
            continue
        why = "" if got == want else f"not {got}: {WHY_NOT[name][got]}"
        marks.expect(got == want, f"{name}: {want}", why)
    if _normal(answer.get("camera", "")) == "signed url":
        marks.expect(_camera_put(book), "camera, proved: a PUT with plain HTTP to a URL the app server "
                     f"signed stored {KEY} (no SDK, no credentials on the device)")
    return marks.finish(strict=strict)


def _camera_put(book: Book) -> bool:
    from helpers import http_clients, sample_data

    alice = book.client("alice")
    photo = sample_data.SAMPLES["photo"]
    signed = alice.api.signed_url("PUT", KEY.removeprefix("users/alice/"), content_type=photo.content_type)
    with photo.path.open("rb") as body, http_clients.client(
            timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as http:
        headers = {**signed.headers, "Content-Length": str(photo.size)}   # sent whole, not chunked
        response = http.put(signed.url, headers=headers, content=body)
    return response.status_code == 200
