"""Write the fixture pages in tests/data/telegram_web/ (run from the repository root):

    python -m tests.fakes.make_telegram_web_fixtures

The pages follow the structure of real `t.me/s/<channel>` pages (see telegram_web_markup.py);
channel names are invented and the Arabic texts were written for these tests. The written
files are committed and read as plain files by the tests; `channel_odd.html` is hand-written
and not produced here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakes.telegram_web_markup import (
    Card,
    ChannelInfo,
    Media,
    emoji_html,
    hashtag_html,
    text_link_html,
    text_to_html,
)
from tests.fakes.telegram_web_pages import render_channel_page, render_landing

OUT = Path(__file__).resolve().parents[1] / "data" / "telegram_web"
BANNER = (
    "<!-- Reconstructed from the structure of real t.me/s pages for monitor's tests; channel "
    "names and texts are invented. -->\n"
)
START = datetime(2025, 3, 14, 0, 0, tzinfo=UTC)

ALAMN = ChannelInfo(
    "alamn_now",
    "الأمن الآن | عاجل",
    "أخبار أمنية عاجلة من العراق والمنطقة<br/>للتواصل: @alamn_contact",
    "48.7K",
)
JABHA = ChannelInfo("jabha_news", "الجبهة نيوز", "متابعات ميدانية على مدار الساعة", "9.3K")

PHOTO = Media("photo")
VIDEO = Media("video")


def c(channel: str, post_id: int, minute: int, html: str = "", **kw: Any) -> Card:
    return Card(channel, post_id, START + timedelta(minutes=minute), html, **kw)


def a(post_id: int, minute: int, html: str = "", **kw: Any) -> Card:
    return c("alamn_now", post_id, minute, html, **kw)


def t(text: str) -> str:
    return text_to_html(text)


PINNED = (
    '<a class="tgme_widget_message_author_name" href="https://t.me/alamn_now"><span dir="auto">'
    'الأمن الآن | عاجل</span></a> pinned «<span class="tgme_widget_service_strong_text" '
    'dir="auto">تحديث: ارتفاع عدد الصواريخ التي استهدفت قاعدة عين الأسد…</span>»'
)
FORMATTED = (
    "<b>هدنة</b> مؤقتة بين الفصائل والقوات الأمريكية <i>بحسب مصادر مطلعة</i>، "
    "<u>تبدأ منتصف الليل</u> و<s>تستمر أسبوعاً</s> تستمر ثلاثة أيام.<br/>"
    "<blockquote>نص البيان: نلتزم بالتهدئة ما دام الطرف الآخر ملتزماً.</blockquote><br/>"
    "رمز العملية: <code>OP-77</code><br/><pre>وقف إطلاق النار: 00:00 بتوقيت بغداد</pre>"
)
SPOILER = (
    '<tg-emoji emoji-id="5368324170671202286">' + emoji_html("🔥") + "</tg-emoji> "
    "<tg-spoiler>اسم القيادي المستهدف</tg-spoiler> لم يُكشف بعد، والتحقيقات مستمرة."
)
LINKS = (
    emoji_html("🔴")
    + " مصادر: التحالف الدولي يرفع حالة التأهب في قاعدة حرير بأربيل بعد هجوم بطائرة مسيّرة."
    "<br/><br/>التفاصيل: "
    + text_link_html("https://www.example-news.iq/article?id=5512&src=tg", "<b>على موقعنا</b>")
    + '<br/>البث المباشر: <a href="https://www.example-news.iq/live" target="_blank" '
    'rel="noopener">https://www.example-news.iq/live</a><br/>'
    + " ".join(hashtag_html(h) for h in ("#عين_الأسد", "#أربيل", "#هجوم_مسيرة"))
    + '<br/><a href="https://t.me/alamn_now">@alamn_now</a>'
)
ALBUM_CAPTION = (
    "<b>بالصور |</b> آثار القصف الذي استهدف مخزناً للعتاد في جرف الصخر فجر اليوم.<br/><br/>"
    + " ".join(hashtag_html(h) for h in ("#جرف_الصخر", "#العراق"))
)


NEWS = {
    1042: "🚨 عاجل | سقوط صاروخين من نوع كاتيوشا قرب قاعدة عين الأسد الجوية غرب الأنبار، "
    "دون أنباء عن إصابات.",
    1046: "بيان: القوات الأمنية تباشر بتفتيش المنطقة المحيطة بالقاعدة بعد سقوط الصواريخ.",
    1047: "تحديث: ارتفاع عدد الصواريخ التي استهدفت قاعدة عين الأسد إلى ثلاثة، "
    "وصفارات الإنذار تدوي داخل القاعدة.",
    1050: "فيديو | لحظة اعتراض طائرة مسيّرة في سماء أربيل الليلة الماضية.",
    1053: "مصدر أمني ينفي وقوع خسائر بشرية في الهجوم.",
    1054: "نص البيان الكامل.",
    1057: "الأنبار | انتشار أمني مكثف على طريق حديثة – القائم بعد تهديدات بشن هجمات جديدة.",
    1058: "تقرير موسع عن الهجمات على القواعد الأمريكية في العراق وسوريا "
    "https://www.example-news.iq/reports/bases-2025",
    1060: "📌 تابعونا على قناتنا الاحتياطية @alamn_backup",
    1061: "شاهد عيان: سمعنا ثلاثة انفجارات متتالية قرب البوابة الشمالية للقاعدة.",
    1063: "عاجل: الحكومة العراقية تدعو إلى ضبط النفس وتؤكد التزامها بالهدنة.",
}
SECURITY_CELL = ("خلية الإعلام الأمني", "https://t.me/security_cell_demo/7788")
QUOTED = (1047, "الأمن الآن | عاجل", "تحديث: ارتفاع عدد الصواريخ التي استهدفت قاعدة عين الأسد")
STATEMENT = Media("document", "بيان_المقاومة_الإسلامية.pdf", "245.3 KB")
POLL = Media("poll", "هل تتوقع صمود الهدنة؟", "Anonymous poll", ("نعم", "لا", "لا أعرف"))
PREVIEW = (
    "https://www.example-news.iq/reports/bases-2025",
    "شبكة الأخبار",
    "الهجمات على القواعد: خريطة وتسلسل زمني",
    "أكثر من 60 هجوماً منذ تشرين الأول.",
)


def n(post_id: int, minute: int, **kw: Any) -> Card:
    return a(post_id, minute, t(NEWS[post_id]), **kw)


def latest_cards() -> list[Card]:
    return [
        n(1042, 60, views="15.2K"),
        a(1043, 64, ALBUM_CAPTION, media=(PHOTO, PHOTO, PHOTO), views="14.9K"),
        n(1046, 70, forwarded_from=SECURITY_CELL),
        n(1047, 75, edited=True, views="21K"),
        a(1048, 81, LINKS, views="9.8K", reactions=(("👍", "312"), ("😡", "41"))),
        a(1049, 82, PINNED, service=True),
        n(1050, 90, media=(VIDEO,)),
        a(1051, 95, FORMATTED, views="7.1K"),
        a(1052, 99, SPOILER),
        n(1053, 104, reply_to=QUOTED),
        n(1054, 110, media=(STATEMENT,)),
        a(1055, 118, media=(Media("voice"),)),
        a(1056, 121, media=(POLL,)),
        n(1057, 130, author="مراسلنا في الأنبار"),
        n(1058, 141, preview=PREVIEW),
        a(1059, 150, media=(Media("location"),)),
        n(1060, 155),
        n(1061, 162, forwarded_from=("محمد العبيدي", None)),
        a(1062, 170, media=(PHOTO,), views="3.4K"),
        n(1063, 176, views="1.1K"),
    ]


MEDIA = ("إعلام المقاومة", "https://t.me/muqawama_media_demo/3321")


def before_cards() -> list[Card]:
    return [
        a(1021, -300, t("بغداد | إجراءات أمنية مشددة في محيط المنطقة الخضراء.")),
        a(1022, -290, t("انقطاع التيار الكهربائي في عدة مناطق من الأنبار.")),
        a(1023, -280, t("مقتل عنصرين من داعش بضربة جوية في وادي حوران."), edited=True),
        a(1024, -270, t("نقل جرحى إلى مستشفى الرمادي العام بعد انفجار عبوة ناسفة.")),
        a(1025, -260, t("مصدر: تحركات لأرتال عسكرية على الطريق الدولي."), forwarded_from=MEDIA),
        a(1026, -250, t("🔻 تفجير يستهدف رتل دعم لوجستي في الناصرية.")),
        a(1027, -240, t("مجلس الأمن الوطني يعقد اجتماعاً طارئاً.")),
        a(1028, -230, t("استئناف الرحلات الجوية في مطار أربيل الدولي.")),
        a(1029, -220, t("بيان مرتقب لخلية الإعلام الأمني خلال ساعة.")),
        a(1030, -210, t("مشاهد من موقع الانفجار.\n#الناصرية"), media=(VIDEO, PHOTO, PHOTO)),
        a(1033, -200, t("لا صحة لأنباء إغلاق منفذ القائم الحدودي.")),
        a(1034, -190, t("الاستخبارات العسكرية تعتقل متهماً بالتخطيط لهجمات.")),
        a(1035, -180, t("قصف مدفعي تركي على قرى في قضاء زاخو.")),
        a(1036, -170, t("ارتفاع حصيلة تفجير الناصرية إلى أربعة جرحى."), edited=True),
        a(1037, -160, t("تحليق مكثف للطيران المسيّر فوق جرف الصخر.")),
        a(1038, -150, t("وزارة الداخلية: القبض على عصابة لتهريب السلاح.")),
        a(1039, -140, t("هجوم بطائرة مسيّرة على حقل كورمور للغاز.")),
        a(1040, -130, t("تعزيزات أمريكية تصل إلى قاعدة عين الأسد.")),
    ]


def start_cards() -> list[Card]:
    return [
        a(1, -40000, "Channel created", service=True),
        a(2, -39999, "Channel photo updated", service=True),
        a(3, -39990, t("أهلاً بكم في قناة الأمن الآن ✅")),
        a(5, -39900, t("أول تغطية: انفجار في سوق شعبي جنوب بغداد.")),
        a(6, -39800, t("ننشر الأخبار بعد التأكد من مصادرها.")),
    ]


def gap_cards() -> list[Card]:
    def j(post_id: int, minute: int, html: str = "", **kw: Any) -> Card:
        return c("jabha_news", post_id, minute, html, **kw)

    return [
        j(500, 0, t("الهدنة صامدة لليوم الثاني على التوالي.")),
        j(501, 10, t("خرق للهدنة بقصف مدفعي على أطراف البلدة.")),
        j(503, 30, t("الفصائل تعلن الرد على الخرق.")),
        j(504, 40, t("وساطة قطرية لتثبيت وقف إطلاق النار.")),
        j(507, 70, t("صور من المنطقة المستهدفة."), media=(PHOTO, PHOTO)),
        j(509, 90, t("قصف جوي يستهدف مقراً لفصيل مسلح.")),
        j(512, 120, t("انهيار الهدنة رسمياً بحسب مصادر ميدانية."), edited=True),
        j(513, 130, t("⚠️ تحذير للمدنيين بالابتعاد عن المواقع العسكرية.")),
    ]


def pages() -> dict[str, str]:
    no_preview = "تغطية خاصة لأخبار الفصائل — القناة الرسمية"
    restricted = "This channel can’t be displayed because it violated Telegram's Terms of Service."
    return {
        "channel_latest.html": render_channel_page(ALAMN, latest_cards(), before=1042),
        "channel_before.html": render_channel_page(ALAMN, before_cards(), before=1021, after=1040),
        "channel_start.html": render_channel_page(ALAMN, start_cards(), after=6),
        "channel_empty_history.html": render_channel_page(ALAMN, []),
        "channel_gap.html": render_channel_page(JABHA, gap_cards(), before=500),
        "landing_missing.html": render_landing("no_such_channel_x1"),
        "landing_restricted.html": render_landing(
            "muqawama_banned_demo",
            title="المقاومة الإسلامية | الإعلام الحربي",
            extra="57 812 subscribers",
            description_html=restricted,
        ),
        "landing_no_preview.html": render_landing(
            "fasael_private_demo",
            title="أخبار الفصائل",
            extra="3 120 subscribers",
            description_html=no_preview,
        ),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, html in pages().items():
        (OUT / name).write_text(html.replace("<html>\n", "<html>\n" + BANNER, 1), encoding="utf-8")


if __name__ == "__main__":
    main()
