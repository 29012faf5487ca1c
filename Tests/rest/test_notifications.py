"""Notifications through the real library and libcurl: email to a real SMTP
server (aiosmtpd, with AUTH) on 127.0.0.1, parsed as MIME; SMS to a local
Twilio-shaped gateway; the host callback channel from Python."""
import base64
import email
import email.policy
import json
import socket
import ssl
import subprocess
from urllib.parse import parse_qs

import pytest
from conftest import Receiver, local_engine, wait_for
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

import orderbase

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

CUSTOMER = {"name": "Zoë Ångström", "email": "zoe@example.com", "phone": "+447700900123"}
LINES = [{"sku": "85123A", "title": "White hanging heart T-light holder", "quantity": 6, "unit_price": 255},
         {"sku": "71053", "title": "White metal lantern", "quantity": 6, "unit_price": 339}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA and a certificate for 127.0.0.1 it signed (openssl)."""
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run(["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                    "-subj", "/CN=Orderbase test CA"], cwd=d, check=True, capture_output=True)
    subprocess.run(["openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
                   cwd=d, check=True, capture_output=True)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], cwd=d, check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(d / "server.pem", d / "server.key")
    return {"ca": str(d / "ca.pem"), "context": context}


class Mailbox:
    """aiosmtpd on 127.0.0.1 that requires AUTH (user shop / password s3cret)
    and refuses bounce@example.com with 550. Plain (AUTH offered without TLS,
    for the test), STARTTLS required (`starttls`), or TLS from the first byte
    (`smtps`), with `context`'s certificate."""

    def __init__(self, mode="plain", context=None):
        self.messages = []
        self.logins = []
        outer = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address == "bounce@example.com":
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                outer.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return "250 OK queued"

        def authenticate(server, session, envelope, mechanism, auth_data):
            outer.logins.append((mechanism, auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.login == b"shop" and auth_data.password == b"s3cret")

        self.port = free_port()
        tls = {"plain": {"auth_require_tls": False},
               "starttls": {"tls_context": context, "require_starttls": True, "auth_require_tls": True},
               "smtps": {"ssl_context": context, "auth_require_tls": False}}[mode]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate,
                                     auth_required=True, **tls)
        self.controller.start()

    def close(self):
        self.controller.stop()


@pytest.fixture
def mailbox():
    m = Mailbox()
    yield m
    m.close()


@pytest.fixture
def gateway():
    """A Twilio-shaped SMS gateway: it records form posts and answers 200."""
    g = Receiver()
    yield g
    g.close()


def email_channel(shop, port, **email_fields):
    fields = {"host": "127.0.0.1", "port": port, "security": "none", "username": "shop", "password": "s3cret",
              "from": "orders@example.com", "from_name": "Boutique Hélène"}
    fields.update(email_fields)
    return shop.notification_channels.create("mail", "email", email=fields)


def test_email_sms_and_callback_from_one_order(tmp_path, mailbox, gateway):
    calls = []
    with local_engine(tmp_path / "root") as engine:
        engine.tenants.create("shop", settings={"name": "Boutique Hélène", "default_currency": "GBP"})
        engine.on_notification(lambda tenant, n: calls.append((tenant, n)))
        with engine.tenant("shop") as shop:
            mail = email_channel(shop, mailbox.port)
            assert mail["email"]["password_set"] is True and "s3cret" not in json.dumps(mail)
            token = base64.b64encode(b"AC1:authtoken").decode()
            sms = shop.notification_channels.create("sms", "sms", sms={
                "url": gateway.url + "/2010-04-01/Accounts/AC1/Messages.json",
                "auth_header": "Basic " + token, "from": "+15005550006"})
            hook = shop.notification_channels.create("host", "callback")
            shop.notification_templates.create(
                "Order received", mail["id"], event_types=["order.created"],
                subject="Commande {{order.number}} reçue — merci {{customer.name}} ✓",
                text="Bonjour {{customer.name}},\n{{#order.line_items}}\n- {{quantity}} × {{title}}: {{unit_price_formatted}} {{order.currency}}\n{{/order.line_items}}\nTotal: {{order.total_formatted}} {{order.currency}}\n{{shop.name}}",
                html="<p>Bonjour {{customer.name}}</p><ul>{{#order.line_items}}<li>{{title}}</li>{{/order.line_items}}</ul><p>{{order.note}}</p>",
                recipients=[{"type": "customer"}, {"type": "staff", "address": "warehouse@example.com"}])
            shop.notification_templates.create(
                "Order SMS", sms["id"], event_types=["order.created"], body="{{shop.name}}: order {{order.number}} received, {{order.total_formatted}} {{order.currency}}",
                recipients=[{"type": "customer"}])
            shop.notification_templates.create(
                "Big order alert", hook["id"], event_types=["order.created"], text="{{order.number}} {{order.total}}",
                recipients=[{"type": "staff", "address": "#sales"}], condition="order.total > 1000")
            order = shop.orders.create(customer=CUSTOMER, note="<fragile> & boxed", line_items=LINES)
            assert wait_for(lambda: len(mailbox.messages) == 2 and len(gateway.received) == 1 and len(calls) == 1)
            assert wait_for(lambda: all(n["status"] == "sent" for n in shop.notifications.list()))
            log = list(shop.notifications.list(order_id=order["id"]))
    assert sorted(n["channel_type"] for n in log) == ["callback", "email", "email", "sms"]
    assert all(n["attempts"] and n["sent_at"] for n in log)

    # Email: envelope, headers, both parts, non-ASCII everywhere.
    assert {tuple(rcpts) for _, rcpts, _ in mailbox.messages} == {("zoe@example.com",), ("warehouse@example.com",)}
    assert all(sender == "orders@example.com" for sender, _, _ in mailbox.messages)
    assert mailbox.logins and mailbox.logins[0][1:] == (b"shop", b"s3cret")
    raw = next(content for _, rcpts, content in mailbox.messages if rcpts == ["zoe@example.com"])
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Commande #1001 reçue — merci Zoë Ångström ✓"
    assert msg["To"] == "zoe@example.com"
    assert msg["From"].addresses[0].display_name == "Boutique Hélène" and msg["From"].addresses[0].addr_spec == "orders@example.com"
    assert msg.get_content_type() == "multipart/alternative" and msg["Message-ID"] and msg["Date"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert text == ("Bonjour Zoë Ångström,\n- 6 × White hanging heart T-light holder: 2.55 GBP\n"
                    "- 6 × White metal lantern: 3.39 GBP\nTotal: 35.64 GBP\nBoutique Hélène")
    assert "<p>Bonjour Zoë Ångström</p>" in html and "&lt;fragile&gt; &amp; boxed" in html

    # SMS: a Twilio-shaped form post with the auth header.
    path, headers, body, _ = gateway.received[0]
    assert path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert headers["authorization"] == "Basic " + token
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(body.decode())
    assert form == {"To": ["+447700900123"], "From": ["+15005550006"], "Body": ["Boutique Hélène: order #1001 received, 35.64 GBP"]}

    # The callback: the tenant and the rendered notification.
    tenant, n = calls[0]
    assert tenant == "shop" and n["text"] == "#1001 3564" and n["recipient"] == {"type": "staff", "address": "#sales"}


def test_refusals_are_logged(tmp_path, mailbox):
    with local_engine(tmp_path / "root", background=False, webhook_timeout_ms=3000) as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            ok = email_channel(shop, mailbox.port)
            tls = email_channel(shop, mailbox.port, security="starttls")
            elsewhere = email_channel(shop, mailbox.port, host="127.0.0.2")
            wrong = email_channel(shop, mailbox.port, password="nope")
            templates = {}
            for name, channel in [("ok", ok), ("tls", tls), ("elsewhere", elsewhere), ("wrong", wrong)]:
                templates[name] = shop.notification_templates.create(
                    name, channel["id"], subject="s", text="t", recipients=[{"type": "customer"}])["id"]
            order = shop.orders.create(customer=CUSTOMER, line_items=LINES)
            bounced = shop.notifications.send(templates["ok"], order["id"], to=["bounce@example.com"])[0]
            sent = {name: shop.notifications.send(t, order["id"])[0]["id"] for name, t in templates.items()}
            engine.pump()
            got = {name: shop.notifications.get(i) for name, i in sent.items()}
            bounce = shop.notifications.get(bounced["id"])
    assert got["ok"]["status"] == "sent"
    # A permanent refusal (550) fails at once; the rest are retried.
    assert bounce["status"] == "failed" and bounce["attempts"][0]["status_code"] == 550
    tls_attempt = got["tls"]["attempts"][0]
    assert got["tls"]["status"] == "pending" and got["tls"]["next_attempt_at"] and ("SSL" in tls_attempt["error"] or "TLS" in tls_attempt["error"])
    assert "127.0.0.2 is loopback" in got["elsewhere"]["attempts"][0]["error"]
    assert got["wrong"]["status"] == "pending" and got["wrong"]["attempts"][0]["error"]
    assert len(mailbox.messages) == 1


def test_bad_input_changes_nothing(tmp_path):
    with local_engine(tmp_path / "root") as engine:
        engine.tenants.create("shop")
        with engine.tenant("shop") as shop:
            mail = email_channel(shop, 2525)
            cases = [
                ({"subject": "{{order.numbr}}", "text": "t"}, "subject", "did you mean order.number?"),
                ({"subject": "s", "text": "{{#order.line_items}}{{title}}"}, "text", "never closed"),
                ({"subject": "s", "text": "{{> footer}}"}, "text", "partials"),
                ({"subject": "s"}, "text", "text part"),
                ({"subject": "s", "text": "t", "condition": "order.totl > 5"}, "condition", "order.total"),
                ({"subject": "s", "text": "t", "recipients": [{"type": "staff", "address": "ops"}]}, "recipients", "email address"),
                ({"subject": "s", "text": "t", "colour": "red"}, "colour", None),
                ({"subject": "s", "text": "x" * 70_000}, "text", None),
            ]
            for extra, field, words in cases:
                fields = {"recipients": [{"type": "customer"}]}
                fields.update(extra)
                with pytest.raises(orderbase.InvalidArgument) as e:
                    shop.notification_templates.create("t", mail["id"], **fields)
                if field:
                    assert e.value.field == field, (extra, e.value)
                if words:
                    assert words in str(e.value), (extra, e.value)
            with pytest.raises(orderbase.InvalidArgument):
                shop.notification_channels.create("m", "email", email={"host": "smtp.example.com", "from": "not-an-address"})
            with pytest.raises(orderbase.InvalidArgument):
                shop.notification_channels.create("m", "sms", sms={"url": "ftp://gateway.example.com/"})
            assert shop.notification_templates.list() == []
            assert len(shop.notification_channels.list()) == 1


def test_tls_with_a_private_ca(tmp_path, pki):
    """STARTTLS (required) with AUTH, SMTPS, and an https gateway, each verified
    against the engine option tls_ca_file; without it the same sends fail verification."""
    starttls, smtps, gateway = Mailbox("starttls", pki["context"]), Mailbox("smtps", pki["context"]), Receiver(pki["context"])
    try:
        for trusted in (True, False):
            options = {"tls_ca_file": pki["ca"]} if trusted else {}
            with orderbase.Engine(tmp_path / f"root-{trusted}", background=False, webhook_allowed_addresses=["127.0.0.1"], **options) as engine:
                engine.tenants.create("shop")
                with engine.tenant("shop") as shop:
                    ids = []
                    for name, channel in [
                        ("starttls", email_channel(shop, starttls.port, security="starttls")),
                        ("smtps", email_channel(shop, smtps.port, security="smtps")),
                        ("sms", shop.notification_channels.create("sms", "sms", sms={"url": gateway.url + "/sms", "from": "Shop"})),
                    ]:
                        parts = {"body": "{{order.number}}"} if name == "sms" else {"subject": "Über {{order.number}}", "text": "t"}
                        ids.append(shop.notification_templates.create(name, channel["id"], recipients=[{"type": "customer"}], **parts)["id"])
                    order = shop.orders.create(customer=CUSTOMER, line_items=LINES)
                    sent = [shop.notifications.send(t, order["id"])[0]["id"] for t in ids]
                    engine.pump()
                    got = [shop.notifications.get(i) for i in sent]
            if trusted:
                assert [n["status"] for n in got] == ["sent", "sent", "sent"], [n["attempts"] for n in got]
            else:
                assert [n["status"] for n in got] == ["pending"] * 3
                assert all("certificate" in n["attempts"][0]["error"].lower() for n in got), [n["attempts"] for n in got]
        for box in (starttls, smtps):
            assert len(box.messages) == 1 and box.logins[0][1:] == (b"shop", b"s3cret")
            msg = email.message_from_bytes(box.messages[0][2], policy=email.policy.default)
            assert msg["Subject"] == "Über #1001"
        assert len(gateway.received) == 1 and parse_qs(gateway.received[0][2].decode())["Body"] == ["#1001"]
        with pytest.raises(orderbase.InvalidArgument):
            orderbase.Engine(tmp_path / "bad", tls_ca_file=str(tmp_path / "missing.pem"))
    finally:
        starttls.close()
        smtps.close()
        gateway.close()
