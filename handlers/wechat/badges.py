"""执法证核验 in the chat — a citizen checks the certificate an officer shows.

- "核验 15052501001" or "核验 姓名".
- WeChat's permanent parametric QR (scene "officer:<执法证号>"): the subscribe or SCAN event.
The badge card's own QR opens the page /v/<token> (handlers/web/badges.py). The answer puts the
verdict first and shows only what the bureau publishes anyway (no ID-card number, no personal phone).
Scans are counted per officer and day, never who scanned.
"""
from handlers.wechat.router import plain, router
from models import Bureau, Officer
from models.badges import VERDICT_WORDS, BadgeScan

ASK_WHAT = ("请回复“核验 执法证号”或“核验 姓名”，如：核验 15052501001。\n"
            "也可以用微信扫一扫执法人员证件上的二维码核验。")
NOT_FOUND = ("没有找到执法证号或姓名为“{arg}”的执法人员，该证件可能不是本局签发的。"
             "{refuse}请拨打本局电话{phone}核实。")
MAX_MATCHES = 5


def officer_card(officer, today, config, bureau):
    """The chat answer for one officer: verdict first, then the certificate as published."""
    words, _ = VERDICT_WORDS[officer.verdict(today)]
    mark = "✅" if words == "有效执法证件" else "⚠️"
    lines = [f"【执法证核验】{mark}{words}", f"姓名：{officer.name}", f"执法证号：{officer.cert_no}",
             f"发证机关：{officer.issuer}", f"执法领域：{officer.fields}",
             f"有效期：{officer.valid_from:%Y.%m.%d}-{officer.valid_to:%Y.%m.%d}", f"执法单位：{bureau.name}"]
    if words == "有效执法证件":
        lines.append(f"请核对出示证件的人员与以上信息、证件照片是否一致。有疑问请拨打{bureau.phone}。")
    else:
        lines.append(f"该证件目前不能用于执法。{config['badges']['refuse_rule']}"
                     f"（{config['badges']['refuse_rule_source']}）请拨打{bureau.phone}核实或投诉。")
    # From a badge scan straight into the complaint dialogue, with this officer chosen.
    lines.append(f"对该执法人员的执法行为有意见，可回复“投诉 {officer.cert_no}”。")
    return "\n".join(lines)


@router.keyword("核验", "核验证件")
def verify_chat(ctx, arg=""):
    arg = plain(arg).replace(" ", "")
    if not arg:
        return ASK_WHAT
    bureau = Bureau.current()
    found = Officer.lookup(arg[:40]) if len(arg) >= 2 else []
    if not found:
        config = ctx.config["badges"]
        return NOT_FOUND.format(arg=arg[:20], refuse=config["refuse_rule"], phone=bureau.phone)
    cards = [officer_card(o, ctx.now.date(), ctx.config, bureau) for o in found[:MAX_MATCHES]]
    more = f"\n\n另有{len(found) - MAX_MATCHES}人同名或姓名相近，请用执法证号核验。" if len(found) > MAX_MATCHES else ""
    return "\n\n".join(cards) + more


@router.scene("officer:")
def verify_scene(ctx, cert_no):
    """Scanning an officer's WeChat parametric QR (subscribe with qrscene_… or SCAN)."""
    officer = Officer.by_cert_no(cert_no)
    greeting = "感谢关注！\n" if ctx.message.event == "subscribe_scan" else ""
    if officer is None:
        bureau = Bureau.current()
        return greeting + NOT_FOUND.format(arg=cert_no[:20], refuse=ctx.config["badges"]["refuse_rule"],
                                           phone=bureau.phone)
    BadgeScan.record(officer, "wechat", ctx.now.date())
    return greeting + officer_card(officer, ctx.now.date(), ctx.config, Bureau.current())


