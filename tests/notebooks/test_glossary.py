"""notebooks/glossary.md (no kernel): every Chinese term the notebooks' titles and the README's 中文
column use has an entry, every entry is complete, and its link is an official Alibaba Cloud page."""

from __future__ import annotations

import re

import pytest

from .common import README, notebook_paths, read
from .test_conventions import TITLE, _readme_rows

GLOSSARY = README.parent / "notebooks" / "glossary.md"
ROW = re.compile(r"^\|(?!\s*-)(?!\s*English\s*\|)(.+)\|\s*$")
CJK = re.compile(r"[\u4e00-\u9fff]")
LINK = re.compile(r"^\[[^\]]+\]\((https://[^)\s]+)\)$")
OFFICIAL = re.compile(r"^https://(help\.aliyun\.com|helpcdn\.aliyun\.com|www\.alibabacloud\.com|api\.aliyun\.com)/")


def _entries() -> list[list[str]]:
    """The glossary's table rows (header and separator rows left out), as stripped cells."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            rows.append([c.strip() for c in m.group(1).split("|")])
    return rows


def _chinese_terms() -> set[str]:
    return {t.strip() for row in _entries() for t in row[1].split(" / ")}


def _required_terms() -> dict[str, str]:
    """Chinese terms the titles and the README use → where. From '— 大文件上传与下载 (分片上传, 断点续传)':
    the term before the parenthesis and each CJK item inside it."""
    needed: dict[str, str] = {}
    for path in notebook_paths():
        m = TITLE.match(read(path).cells[0].source.splitlines()[0])
        if not m:
            continue    # test_conventions reports a malformed title
        head, _, inside = m.group(3).partition(" (")
        for term in [head, *inside.rstrip(")").split(",")]:
            if CJK.search(term):
                needed.setdefault(term.strip(), f"{path.name} title")
    for link, (_, _, term, _) in _readme_rows().items():
        needed.setdefault(term, f"README row of {link}")
    return needed


def test_glossary_has_entries_with_four_cells() -> None:
    rows = _entries()
    assert len(rows) >= 30, f"only {len(rows)} entries"
    for row in rows:
        assert len(row) == 4 and all(row[:3]), f"incomplete entry: {row}"
    assert sum(bool(CJK.search(row[1])) for row in rows) >= len(rows) - 2, "entries without a Chinese term"


def test_every_title_and_readme_term_has_an_entry() -> None:
    have = _chinese_terms()
    missing = {term: where for term, where in _required_terms().items() if term not in have}
    assert not missing, f"terms without a glossary entry: {missing}"


def test_links_are_official_alibaba_pages() -> None:
    for english, _, _, doc in _entries():
        if doc == "—":
            continue    # the row says Alibaba defines no such term
        m = LINK.match(doc)
        assert m, f"{english}: doc cell {doc!r} is not one markdown link (or '—')"
        assert OFFICIAL.match(m.group(1)), f"{english}: {m.group(1)} is not an Alibaba Cloud page"


GUIDE_TERMS = [
    "客户端", "应用服务器", "临时凭证授权的上传", "签名URL授权的上传和表单上传",
    "临时凭证授权的下载", "签名URL授权的下载", "安全令牌", "RAM用户", "RAM角色", "权限策略",
    "存储空间", "对象", "访问域名", "地域", "跨域资源共享", "分片上传", "断点续传", "上传回调",
    "表单上传", "签名URL",
]


@pytest.mark.parametrize("term", GUIDE_TERMS)
def test_the_direct_upload_guides_terms(term: str) -> None:
    assert term in _chinese_terms()


def test_the_three_tokens_are_told_apart() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    for meaning in ("bearer session token", "SecurityToken", "whole credential set"):
        assert meaning in text


def test_the_readme_points_at_the_glossary() -> None:
    assert "notebooks/glossary.md" in README.read_text(encoding="utf-8")
