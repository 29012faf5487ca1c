"""Notifications through the real library and libcurl: email to a real SMTP
server (aiosmtpd, with AUTH) on 127.0.0.1, parsed as MIME; SMS to a local
Twilio-shaped gateway; the host callback channel from Python."""
import base64
import email
import email.policy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
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


class Mailbox:
    """aiosmtpd on 127.0.0.1 that requires AUTH (user shop / password s3cret,
    offered without TLS for the test) and refuses bounce@example.com with 550."""

    def __init__(self):
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
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate,
                                     auth_required=True, auth_require_tls=False)
        self.controller.start()

    def close(self):
        self.controller.stop()


class Gateway:
    """A Twilio-shaped SMS gateway: form posts to /2010-04-01/Accounts/AC1/Messages.json, 201."""

    def __init__(self):
        self.received = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def mailbox():
    m = Mailbox()
    yield m
    m.close()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def wait_for(predicate, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def local_engine(root, **options):
    return orderbase.Engine(root, webhook_allow_http=True, webhook_allowed_addresses=["127.0.0.1"], **options)


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
    path, headers, body = gateway.received[0]
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
