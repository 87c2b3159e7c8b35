"""亮证卡 — the printable badge card: photo, name, 执法证号, fields, validity and the verification QR.

Drawn with Pillow at print resolution (badges.dpi, 300 by default) on a portrait ID-1 card
(54 × 85.6 mm, the size of a bank card, fits standard badge holders), written as PNG and PDF.
Chinese needs a CJK font (Debian: fonts-noto-cjk); its path is configurable.
"""
import os
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps

from models.badges import photo_path

CARD_MM = (54.0, 85.6)
MM_PER_INCH = 25.4
BAND = (0, 84, 166)      # the bureau's band and name
INK = (17, 17, 17)
GREY = (110, 110, 110)


class FontMissing(RuntimeError):
    """The configured CJK font is not on this machine."""


def font_path(config, bold=False):
    """badges.font (BADGE_FONT) for everything, else config's font_path (the bold one when it exists)."""
    badges = config.get("badges", {})
    if badges.get("font"):
        return badges["font"]
    if bold and badges.get("bold_font_path") and os.path.exists(badges["bold_font_path"]):
        return badges["bold_font_path"]
    return badges.get("font_path", "")


def load_font(config, size, bold=False):
    path = font_path(config, bold)
    if not path or not os.path.exists(path):
        raise FontMissing(f"找不到中文字体文件：{path or '（未配置）'}。请安装 fonts-noto-cjk"
                          "（apt-get install fonts-noto-cjk，或 make browser），"
                          "或在环境变量 BADGE_FONT / config.yaml 的 badges.font_path 中指定字体路径。")
    index = int(config.get("badges", {}).get("font_index", 0)) if path.endswith(".ttc") else 0
    return ImageFont.truetype(path, size, index=index)


def qr_image(url, target_px):
    """The QR of `url` (error correction M, 4-module quiet zone), black on white, at most `target_px` wide,
    every module the same whole number of pixels so a printer keeps it sharp."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(url)
    code.make(fit=True)
    code.box_size = max(1, target_px // (code.modules_count + 2 * code.border))
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


class Card:
    """One card being drawn; sizes are in millimetres and turned into pixels at the configured dpi."""

    def __init__(self, config):
        self.config = config
        self.dpi = int(config.get("badges", {}).get("dpi", 300))
        self.image = Image.new("RGB", (self.px(CARD_MM[0]), self.px(CARD_MM[1])), "white")
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm):
        return round(mm / MM_PER_INCH * self.dpi)

    def font(self, mm, bold=False):
        return load_font(self.config, self.px(mm), bold)

    def centered(self, y_mm, text, font, fill):
        width = self.draw.textlength(text, font=font)
        self.draw.text(((self.image.width - width) / 2, self.px(y_mm)), text, font=font, fill=fill)

    def fitted_font(self, text, mm, max_width_px, bold=False):
        """The largest font up to `mm` high in which `text` fits `max_width_px`."""
        font = self.font(mm, bold)
        while self.draw.textlength(text, font=font) > max_width_px and mm > 1.6:
            mm -= 0.2
            font = self.font(mm, bold)
        return font


def render_card(officer, bureau_name, url, config):
    """The badge card of `officer` whose QR encodes `url`, as a Pillow image."""
    card = Card(config)
    width = card.image.width
    card.draw.rectangle([0, 0, width, card.px(14)], fill=BAND)
    card.centered(2.2, bureau_name, card.fitted_font(bureau_name, 4.2, width - card.px(6), bold=True), "white")
    card.centered(8.2, "行政执法人员", card.font(3.0), "white")
    _draw_photo(card, officer)
    _draw_identity(card, officer)
    qr = qr_image(url, card.px(27))
    card.image.paste(qr, ((width - qr.width) // 2, card.px(51.5)))
    card.centered(CARD_MM[1] - 5.6, "微信扫码 核验证件真伪", card.font(2.5), GREY)
    return card.image


def _draw_photo(card, officer):
    box = (card.px(4), card.px(17), card.px(4 + 19), card.px(17 + 25))  # 19 × 25 mm
    path = photo_path(officer, card.config)
    if path:
        with Image.open(path) as photo:
            fitted = ImageOps.fit(ImageOps.exif_transpose(photo).convert("RGB"), (box[2] - box[0], box[3] - box[1]))
        card.image.paste(fitted, box[:2])
    else:
        card.draw.rectangle(box, outline=GREY, width=2)
        label = card.font(2.6)
        text_w = card.draw.textlength("照片", font=label)
        card.draw.text(((box[0] + box[2] - text_w) / 2, (box[1] + box[3]) / 2 - card.px(1.5)), "照片",
                       font=label, fill=GREY)


def _draw_identity(card, officer):
    x = card.px(26)
    right = card.image.width - card.px(3)
    card.draw.text((x, card.px(17.5)), officer.name, font=card.fitted_font(officer.name, 6.0, right - x, True),
                   fill=INK)
    small, value = card.font(2.3), card.font(2.9)
    card.draw.text((x, card.px(27)), "执法证号", font=small, fill=GREY)
    card.draw.text((x, card.px(30)), officer.cert_no, font=card.fitted_font(officer.cert_no, 3.4, right - x), fill=INK)
    card.draw.text((x, card.px(35.5)), "有效期至", font=small, fill=GREY)
    card.draw.text((x, card.px(38.5)), f"{officer.valid_to:%Y年%m月%d日}", font=value, fill=INK)
    left = card.px(4)
    for y_mm, label, text in ((43.5, "执法领域", officer.fields), (47.3, "发证机关", officer.issuer)):
        line = f"{label}：{text}"
        card.draw.text((left, card.px(y_mm)), line, font=card.fitted_font(line, 2.7, right - left), fill=INK)


def write_badge(officer, bureau_name, url, config, out_dir):
    """Write `<cert_no>.png` and `<cert_no>.pdf` into `out_dir`; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image = render_card(officer, bureau_name, url, config)
    dpi = int(config.get("badges", {}).get("dpi", 300))
    png, pdf = out / f"{officer.cert_no}.png", out / f"{officer.cert_no}.pdf"
    image.save(png, dpi=(dpi, dpi))
    image.save(pdf, "PDF", resolution=float(dpi))
    return png, pdf


def write_wechat_qr(officer, url, config, out_dir):
    """WeChat's permanent parametric QR of `officer`, drawn from the URL WeChat returned, as PNG."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dpi = int(config.get("badges", {}).get("dpi", 300))
    path = out / f"{officer.cert_no}-wechat.png"
    qr_image(url, round(40 / MM_PER_INCH * dpi)).save(path, dpi=(dpi, dpi))  # 4 cm wide
    return path
