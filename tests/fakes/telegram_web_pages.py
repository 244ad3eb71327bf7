"""Whole pages of the Telegram web preview: a channel page (`/s/<channel>`, `?before=`,
`?after=`) and the landing page (`/<channel>`) that a private, restricted or missing channel
gets instead. Cards come from `telegram_web_markup.render_card`."""

from __future__ import annotations

from html import escape

from tests.fakes.telegram_web_markup import CDN, Card, ChannelInfo, render_card

_CSS = (
    '<link href="//telegram.org/css/font-roboto.css?1" rel="stylesheet" type="text/css">\n'
    '<link href="//telegram.org/css/telegram-web.css?33" rel="stylesheet">\n'
    '<link href="//telegram.org/css/widget-frame.css?67" rel="stylesheet">\n'
)


def _more(channel: str, kind: str, value: int | None) -> str:
    if value is None:
        return ""
    return (
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{channel}?{kind}={value}" class="tme_messages_more js-messages_more" '
        f'data-{kind}="{value}"></a></div>\n'
    )


def _head(info: ChannelInfo, before: int | None, after: int | None) -> str:
    title = escape(info.title)
    links = ""
    if before is not None:
        links += f'<link rel="prev" href="/s/{info.username}?before={before}">\n'
    if after is not None:
        links += f'<link rel="next" href="/s/{info.username}?after={after}">\n'
    return (
        f'<head>\n<meta charset="utf-8">\n<title>{title} – Telegram</title>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f'<meta property="og:title" content="{title}">\n'
        f'<meta property="og:image" content="{CDN}/{info.username}-userpic.jpg">\n'
        '<meta property="og:site_name" content="Telegram">\n'
        f'<meta property="og:description" content="{escape(_plain(info.description_html))}">\n'
        f'<link rel="canonical" href="https://t.me/s/{info.username}"/>\n{links}{_CSS}</head>\n'
    )


def _plain(html: str) -> str:
    return html.replace("<br/>", " ").replace("<br>", " ")


def _header(info: ChannelInfo) -> str:
    return (
        '<header class="tgme_header search_collapsed"><div class="tgme_header_search"><form '
        'class="tgme_header_search_form" action="" method="get"><input class="tgme_header_search_'
        'form_input js-header_search" placeholder="Search" name="q" autocomplete="off" value="">'
        '</form></div><div class="tgme_header_info"><a class="tgme_header_link" '
        f'href="https://t.me/{info.username}"><div class="tgme_header_title">{escape(info.title)}'
        f'</div><div class="tgme_header_counter">{info.subscribers} subscribers</div></a></div>'
        "</header>\n"
    )


def _channel_info(info: ChannelInfo) -> str:
    counters = "".join(
        f'<div class="tgme_channel_info_counter"><span class="counter_value">{value}</span> '
        f'<span class="counter_type">{kind}</span></div>'
        for value, kind in (((info.subscribers, "subscribers"), *info.counters))
    )
    return (
        '<section class="tgme_right_column"><div class="tgme_channel_info">\n'
        '<div class="tgme_channel_info_header"><i class="tgme_page_photo_image bgcolor2" '
        f'data-content="{escape(info.title[:1])}"><img src="{CDN}/{info.username}-userpic.jpg">'
        '</i><div class="tgme_channel_info_header_title"><span dir="auto">'
        f"{escape(info.title)}</span></div>"
        '<div class="tgme_channel_info_header_username"><a href="https://t.me/'
        f'{info.username}">@{info.username}</a></div></div>\n'
        f'<div class="tgme_channel_info_counters">{counters}</div>\n'
        '<div class="tgme_channel_info_description">'
        f"{info.description_html}</div>\n</div></section>\n"
    )


def render_channel_page(
    info: ChannelInfo,
    cards: list[Card],
    *,
    before: int | None = None,
    after: int | None = None,
) -> str:
    """A `/s/<channel>` page: `before`/`after` are the values of the "more" links, if any.

    With no cards the history holds Telegram's "No posts found" notice (as for `?before=1`).
    """
    body = "".join(render_card(card, info) for card in cards)
    if not cards:
        body = '<div class="tme_no_messages_found">No posts found</div>\n'
    history = (
        '<section class="tgme_channel_history js-message_history">\n'
        f"{_more(info.username, 'before', before)}{body}{_more(info.username, 'after', after)}"
        "</section>\n"
    )
    return (
        "<!DOCTYPE html>\n<html>\n"
        f"{_head(info, before, after)}"
        '<body class="widget_frame_base tgme_webpreview emoji_image no_transitions">\n'
        f"{_header(info)}"
        '<main class="tgme_main"><div class="tgme_container">\n'
        f"{_channel_info(info)}{history}"
        "</div></main>\n"
        '<script src="//telegram.org/js/jquery.min.js"></script>\n'
        "<script>TWeb.init();</script>\n</body>\n</html>\n"
    )


def render_landing(
    username: str,
    *,
    title: str | None = None,
    extra: str | None = None,
    description_html: str | None = None,
    preview_link: bool = False,
) -> str:
    """`t.me/<username>`: where `/s/<username>` leads when there is no web preview.

    Without `title` it is the bare contact shell Telegram shows for a username that no channel
    holds ("Telegram: Contact @x").
    """
    og_title = escape(title) if title else f"Telegram: Contact @{username}"
    if description_html is None and title is None:
        description_html = (
            f'If you have <strong>Telegram</strong>, you can contact <a class="tgme_username_link" '
            f'href="tg://resolve?domain={username}">@{username}</a> right away.'
        )
    parts = [
        f'<div class="tgme_page_photo"><a href="tg://resolve?domain={username}">'
        f'<img class="tgme_page_photo_image" src="{CDN}/{username}-userpic.jpg"></a></div>'
        if title
        else '<div class="tgme_page_icon"><i class="tgme_icon_user"></i></div>',
        f'<div class="tgme_page_title" dir="auto"><span dir="auto">{escape(title)}</span></div>'
        if title
        else "",
        f'<div class="tgme_page_extra">{escape(extra)}</div>' if extra else "",
        f'<div class="tgme_page_description" dir="auto">{description_html}</div>'
        if description_html
        else "",
        '<div class="tgme_page_action"><a class="tgme_action_button_new shine" '
        f'href="tg://resolve?domain={username}">{"View in Telegram" if title else "Send Message"}'
        "</a></div>",
        '<div class="tgme_page_context_link_wrap">'
        f'<a href="/s/{username}" class="tgme_page_context_link">Preview channel</a></div>'
        if preview_link
        else "",
    ]
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{og_title}</title>\n"
        f'<meta property="og:title" content="{og_title}">\n'
        '<meta property="og:image" content="https://telegram.org/img/t_logo.png">\n'
        '<meta property="og:site_name" content="Telegram">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"{_CSS}</head>\n<body>\n"
        '<div class="tgme_page_wrap"><div class="tgme_head_wrap"><div class="tgme_head">'
        '<a href="//telegram.org/" class="tgme_head_brand"></a><a class="tgme_head_right_btn" '
        f'href="//telegram.org/dl?tme={username}">Download</a></div></div>\n'
        f'<a href="tg://resolve?domain={username}" id="tgme_frame_cont"></a>\n'
        '<div class="tgme_body_wrap"><div class="tgme_page">\n'
        + "\n".join(p for p in parts if p)
        + "\n</div></div></div>\n</body>\n</html>\n"
    )
