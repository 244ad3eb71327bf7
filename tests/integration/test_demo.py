"""The README's offline demo: the bundled feeds and the shipped rules, through `monitor run
--once`, print alerts for the matching Arabic items and for nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.support.daemon import run_once

MATCHING = [
    "سقوط صواريخ على قاعدة عين الأسد الجوية غرب الأنبار",  # an attack on a base
    "الفصائل تعلن التزامها بالهُدنة مع استمرار المفاوضات",  # a truce, with a diacritic
    "كتائب سيد الشهداء تنفي علاقتها بالهجوم الأخير",  # an armed faction
    "مجلس الأمن الدولي يعقد جلسة طارئة بشأن التصعيد في المنطقة",  # windows-1256 feed
    "بدء انسحاب قوات التحالف الدولي من قاعدة حرير في أربيل",  # Atom feed
    "مصادر: تمديد الـهـدنـة في غزة لأسبوع إضافي",  # JSON Feed, tatweel
]
NOT_MATCHING = [
    "مباراة ودية في ملعب عين الأسد",  # the base's name, but football
    "وزارة الزراعة تعلن خطة",
    "معرض بغداد الدولي للكتاب",
    "أسعار النفط ترتفع",
    "مهرجان بلغراد السينمائي",
    "افتتاح جسر جديد",
    "درجات الحرارة تنخفض",
]


def test_demo_prints_alerts_for_the_matching_items_only(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo", demo, ignore=shutil.ignore_patterns("var"))
    config = yaml.safe_load((demo / "monitor.yaml").read_text(encoding="utf-8"))
    config["rules"] = str(ROOT / "rules")
    (demo / "monitor.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    result = run_once(demo / "monitor.yaml", MONITOR_LOG_FORMAT="console")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in MATCHING:
        assert out.count(title) == 1, title
    for title in NOT_MATCHING:
        assert title not in out, title
    assert out.count("rules: ") == len(MATCHING)
    assert run_once(demo / "monitor.yaml").stdout == ""  # seen: nothing the second time
