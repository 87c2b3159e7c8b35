"""A terminal WeChat: build real inbound XML, sign (and encrypt) it, post it, print the reply.

Lets anyone try the bot without a WeChat account: `python bot.py chat 网吧`.
"""
import hashlib
import random
import string
import time
from pathlib import Path

import click
import requests
import xmltodict
from flask import current_app
from flask.cli import with_appcontext
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from notices.wechat_api import make_client
from notices.wechat_standin import standin_base, wanted

ACCOUNT = "gh_sanxiang_terminal"


def inbound_xml(openid, text=None, event=None, msg_id=None, now=None, media=None):
    """The XML WeChat would push for a text message, an event (subscribe, scan:SCENE, click:KEY) or
    `media`: a dict of a non-text message's fields (MsgType image/voice/location …)."""
    now = int(now or time.time())
    fields = {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": now}
    if event:
        name, _, arg = event.partition(":")
        fields.update(_event_fields(name.lower(), arg))
    elif media:
        fields.update({**media, "MsgId": msg_id or random.randrange(10**15, 10**16)})
    else:
        fields.update({"MsgType": "text", "Content": text,
                       "MsgId": msg_id or random.randrange(10**15, 10**16)})
    return xmltodict.unparse({"xml": fields}, full_document=False)


VOICE_FORMATS = {".amr": "amr", ".mp3": "mp3", ".wav": "wav", ".speex": "speex", ".m4a": "m4a"}


def api_config(config):
    """The configuration whose WeChat API the chat uploads to: the local stand-in without an account."""
    if not wanted(config):
        return config
    return {**config, "wechat": {**config["wechat"], "api_base": standin_base(config)}}


def media_fields(config, image=None, voice=None, location=None, label=""):
    """The fields of an image, voice or location message; files are uploaded first, as WeChat holds
    a phone's media and hands the bot only its media_id (素材管理: 新增临时素材)."""
    if location:
        lat, _, lng = location.replace("，", ",").partition(",")
        return {"MsgType": "location", "Location_X": float(lat), "Location_Y": float(lng), "Scale": 15,
                "Label": label or f"{float(lat):.5f},{float(lng):.5f}"}
    path = Path(image or voice)
    kind = "image" if image else "voice"
    with open(path, "rb") as fh:
        uploaded = make_client(api_config(config)).media.upload(kind, (path.name, fh))
    if image:
        return {"MsgType": "image", "PicUrl": f"file://{path.name}", "MediaId": uploaded["media_id"]}
    return {"MsgType": "voice", "MediaId": uploaded["media_id"],
            "Format": VOICE_FORMATS.get(path.suffix.lower(), "amr"), "Recognition": ""}


def _event_fields(name, arg):
    if name == "scan":
        return {"MsgType": "event", "Event": "SCAN", "EventKey": arg, "Ticket": "terminal"}
    if name == "subscribe" and arg:
        return {"MsgType": "event", "Event": "subscribe", "EventKey": f"qrscene_{arg}", "Ticket": "terminal"}
    if name == "click":
        return {"MsgType": "event", "Event": "CLICK", "EventKey": arg}
    return {"MsgType": "event", "Event": name}


def signed_query(token, timestamp, nonce):
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce}


def post_message(url, config, xml, encrypt=False, timeout=10):
    """POST `xml` to the endpoint as WeChat would; return (status, reply text or body)."""
    wechat = config["wechat"]
    timestamp = int(time.time())
    nonce = "".join(random.choices(string.digits, k=10))
    params = signed_query(wechat["token"], timestamp, nonce)
    body = xml
    helper = None
    if encrypt:
        helper = WeChatCrypto(wechat["token"], wechat["aes_key"], wechat["appid"])
        envelope = xmltodict.parse(helper.encrypt_message(xml, nonce, timestamp))["xml"]
        params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        body = xmltodict.unparse({"xml": {"ToUserName": ACCOUNT, "Encrypt": envelope["Encrypt"]}},
                                 full_document=False)
    response = requests.post(url, params=params, data=body.encode("utf-8"), timeout=timeout,
                             headers={"Content-Type": "text/xml"})
    if response.status_code != 200 or response.text == "success":
        return response.status_code, response.text
    reply_xml = response.text
    if helper:
        reply = xmltodict.parse(reply_xml)["xml"]
        reply_xml = helper.decrypt_message(reply_xml, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    return response.status_code, _reply_text(reply_xml)


def _reply_text(reply_xml):
    reply = parse_message(reply_xml)
    return getattr(reply, "content", None) or reply_xml


def run_chat(config, text=None, url=None, openid="o_terminal_user", encrypt=False, event=None, media=None):
    """Send one message or run an interactive session; returns a process exit code.

    `media`: dict(image=path | voice=path | location="lat,lng", label=…) for one non-text message."""
    url = url or f"http://{config['server']['host']}:{config['server']['port']}/wechat"
    if encrypt and not config["wechat"].get("aes_key"):
        print("--encrypt 需要配置 WECHAT_AES_KEY（与服务器相同）。")
        return 2
    if media:
        return _send_media(url, config, openid, encrypt, **media)
    if text or event:
        return _send_and_print(url, config, inbound_xml(openid, text=text, event=event), encrypt)
    print(f"已连接 {url}（用户 {openid}）。输入消息后回车，Ctrl-D 退出。\n"
          "发图片：/image 文件　发语音：/voice 文件　发位置：/location 纬度,经度 [地名]")
    code = 0
    while True:
        try:
            line = input("我> ").strip()
        except EOFError:
            print()
            return code
        command, _, rest = line.partition(" ")
        if command in ("/image", "/voice") and rest.strip():
            code = _send_media(url, config, openid, encrypt, **{command[1:]: rest.strip()})
        elif command == "/location" and rest.strip():
            where, _, label = rest.strip().partition(" ")
            code = _send_media(url, config, openid, encrypt, location=where, label=label.strip())
        elif line:
            code = _send_and_print(url, config, inbound_xml(openid, text=line), encrypt)


def _send_media(url, config, openid, encrypt, **media):
    try:
        fields = media_fields(config, **media)
    except (OSError, ValueError) as exc:
        print(f"无法发送：{exc}。图片、语音请给出本机文件路径，位置写成 纬度,经度（如 42.84,120.66）。")
        return 2
    except (WeChatClientException, requests.RequestException) as exc:
        print(f"上传到微信接口失败（{exc.__class__.__name__}）：没有设置 WECHAT_SECRET 时请先运行 make run（带本机接口替身）。")
        return 1
    return _send_and_print(url, config, inbound_xml(openid, media=fields), encrypt)


def _send_and_print(url, config, xml, encrypt):
    try:
        status, reply = post_message(url, config, xml, encrypt=encrypt)
    except requests.RequestException as exc:
        print(f"无法连接服务器 {url}：{exc.__class__.__name__}。请先运行 make run。")
        return 1
    if status != 200:
        print(f"服务器返回 HTTP {status}：{reply[:200]}")
        return 1
    print("（无回复：success）" if reply == "success" else reply)
    return 0


@click.command("chat")
@with_appcontext
@click.argument("text", required=False)
@click.option("--url", default=None, help="Server URL (default: this config's host and port).")
@click.option("--openid", default="o_terminal_user", show_default=True, help="Who is talking.")
@click.option("--encrypt", is_flag=True, help="Send in safe (AES) mode.")
@click.option("--event", default=None, help="subscribe | unsubscribe | scan:SCENE | click:KEY")
@click.option("--image", type=click.Path(exists=True, dir_okay=False), help="Send a photo from this file.")
@click.option("--voice", type=click.Path(exists=True, dir_okay=False), help="Send a voice note (amr/mp3) from this file.")
@click.option("--location", default=None, help="Send a location: LAT,LNG (e.g. 42.84,120.66).")
@click.option("--label", default="", help="The place name sent with --location.")
def chat_command(text, url, openid, encrypt, event, image, voice, location, label):
    """Talk to a running server as WeChat would; without TEXT or --event, an interactive session."""
    config = current_app.config["SANXIANG"]
    media = None
    if image or voice or location:
        media = {"image": image} if image else {"voice": voice} if voice else {"location": location, "label": label}
    raise SystemExit(run_chat(config, text=text, url=url, openid=openid, encrypt=encrypt, event=event,
                              media=media))
