"""The attacks of issue 15 points 1 and 3-8 on accounts, registration and the login, with their
results (prints figures; not a test: the tests are tests/unit/test_account_holders.py,
test_auth_abuse.py, test_auth_login_change.py and test_login_states.py).

    python bench/login_attacks.py [--root PATH]

``--root`` is the checkout whose ``gazportal`` package is attacked (default: this one), so the
same script gives the figures before and after a change: run it with ``--root`` of the older
checkout, then without. Everything runs on a fresh SQLite file with the default profile, cheap
argon2 parameters (the production cost for the timing of "send again"), the outbox instead of
SMTP, and calls the services directly, as an attacker speaking Reflex's protocol reaches them.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path


def _setup(root: Path):
    sys.path.insert(0, str(root))
    from gazportal.db import make_engine, migrate
    from gazportal.settings import Smtp, get_settings, load_utility

    tmp = Path(tempfile.mkdtemp(prefix="login-attacks-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate(engine)
    utility = load_utility("default")
    s = dataclasses.replace(
        get_settings(), utility=utility, outbox_dir=tmp / "outbox", upload_dir=tmp / "uploads",
        secret_key=b"k" * 40, redis_url=None, public_url="https://portal.example",
        smtp=Smtp(host=None, port=25, username=None, password=None, starttls=False, use_tls=False,
                  sender="no-reply@portal.example"), sms_provider="outbox")
    return engine, utility, s


NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Lab:
    def __init__(self, root: Path):
        self.engine, self.utility, self.s = _setup(root)
        from gazportal.services import auth, notify, passwords

        self.auth, self.notify, self.passwords = auth, notify, passwords
        passwords.use_parameters(time_cost=1, memory_cost=1024, parallelism=1)
        self.numbers = iter(range(7000001, 7999999))

    def account(self, amount="100.00") -> str:
        from gazportal.db import write_session
        from gazportal.models.accounts import Account
        from gazportal.models.billing import Payment

        number = str(next(self.numbers))
        with write_session(self.engine) as ss:
            acc = Account(number=number, holder_name="X", kind="person", address="Abaya 1")
            ss.add(acc)
            ss.flush()
            ss.add(Payment(account_id=acc.id, paid_at=NOW - timedelta(days=20), amount=Decimal(amount),
                           receipt_no=f"R{number}", channel="bank"))
        return number

    def form(self, login, password, number, name="Anna"):
        return {"login": login, "password": password, "password2": password, "surname": "Ivanova", "name": name,
                "phone": "+7 701 234 5678", "kind": "person", "bin": "", "account_number": number,
                "last_payment": "100.00", "agreement": True, "captcha": ""}

    def register(self, login, password, number=None, name="Anna", now=NOW):
        return self.auth.register(self.engine, self.utility, self.form(login, password, number or self.account(),
                                                                         name), now=now, settings=self.s)

    def mails(self, to=None):
        self.notify.wait_idle()
        return self.notify.read_outbox(kind="mail", to=to, settings=self.s)

    def token(self, text, path="/confirm"):
        import re

        m = re.search(re.escape("https://portal.example" + path) + r"\?token=([A-Za-z0-9_\-]+)", text)
        return m.group(1) if m else None

    def refused(self, fn, *, fields: bool = False):
        """The refusal's key (None: accepted); ``fields``: a form's refusal by its fields' keys."""
        from gazportal.services.errors import DomainError, FormErrors

        try:
            fn()
        except FormErrors as e:
            if fields:
                return "+".join(sorted({n.key.removeprefix("errors.") for n in e.fields.values()}))
            return e.key
        except DomainError as e:
            return e.key
        return None

    def user(self, login):
        from sqlmodel import select

        from gazportal.db import read_session
        from gazportal.models.people import User

        with read_session(self.engine) as ss:
            return ss.exec(select(User).where(User.login == login)).first()

    def count_users(self):
        from sqlmodel import func, select

        from gazportal.db import read_session
        from gazportal.models.people import User

        with read_session(self.engine) as ss:
            return ss.exec(select(func.count()).select_from(User)).one()

    def confirmed(self, login, now=NOW):
        self.register(login, "confirmed user 2026", now=now)
        self.auth.confirm_link(self.engine, self.token(self.mails(login)[-1].text), now=now, settings=self.s)
        return self.user(login)


def _confirm(lab: Lab, token, password):
    """Confirm a link as its owner would: with the password where the page asks for it."""
    refusal = lab.refused(lambda: lab.auth.confirm_link(lab.engine, token, now=NOW, settings=lab.s))
    if refusal == "errors.confirm_needs_password":
        refusal = lab.refused(lambda: lab.auth.confirm_link(lab.engine, token, now=NOW, settings=lab.s,
                                                            password=password))
        return f"asked for the password, then {refusal or 'accepted'}"
    return refusal or "accepted"


def _signs_in(lab: Lab, login, pw) -> bool:
    return lab.refused(lambda: lab.auth.sign_in(lab.engine, lab.utility, login, pw, now=NOW, settings=lab.s)) is None


def pre_registration(lab: Lab) -> str:
    victim = "victim3@example.kz"
    lab.register(victim, "attacker knows 1", name="Mallory")
    lab.register(victim, "victim owns this 2", name="Victoria")
    links = [lab.token(m.text) for m in lab.mails(victim)]
    first = _confirm(lab, links[0], "victim owns this 2")
    last = _confirm(lab, links[-1], "victim owns this 2")
    return (f"{len(links)} links in the victim's mailbox; the first: {first}, the victim's: {last}; then signs in "
            f"with the attacker's password: {_signs_in(lab, victim, 'attacker knows 1')}, with the victim's: "
            f"{_signs_in(lab, victim, 'victim owns this 2')}")


def registration_after_the_owner(lab: Lab) -> str:
    victim = "victim3b@example.kz"
    lab.register(victim, "victim owns this 2", name="Victoria")
    lab.register(victim, "attacker knows 1", name="Mallory")
    newest = lab.token(lab.mails(victim)[-1].text)  # the attacker's attempt, in the victim's mailbox
    clicked = _confirm(lab, newest, "victim owns this 2")  # the victim clicks the newest link
    return (f"the victim clicks the newest link: {clicked}; the attacker's password then signs in: "
            f"{_signs_in(lab, victim, 'attacker knows 1')}")


def _house(lab: Lab, payment="100.00"):
    """A house with flats 10 and 11; the victim's account at flat 11 (with a holder), its number."""
    from gazportal.db import write_session
    from gazportal.models import Account, Branch, Flat, House, Payment, Settlement, Street, User, UserAccountLink

    with write_session(lab.engine) as ss:
        b = Branch(name=f"B{next(lab.numbers)}")
        ss.add(b)
        ss.flush()
        st = Settlement(branch_id=b.id, name="S")
        ss.add(st)
        ss.flush()
        street = Street(settlement_id=st.id, name="Abaya")
        ss.add(street)
        ss.flush()
        house = House(street_id=street.id, number="5")
        ss.add(house)
        ss.flush()
        f10, f11 = Flat(house_id=house.id, number="10"), Flat(house_id=house.id, number="11")
        ss.add_all([f10, f11])
        ss.flush()
        number = str(next(lab.numbers))
        acc = Account(number=number, holder_name="Victoria", kind="person", address="Abaya 5-11",
                      house_id=house.id, flat_id=f11.id)
        ss.add(acc)
        ss.flush()
        ss.add(Payment(account_id=acc.id, paid_at=NOW - timedelta(days=20), amount=Decimal(payment),
                       receipt_no=f"R{number}", channel="bank"))
        holder = User(login=f"holder{number}@example.kz", email=f"holder{number}@example.kz", surname="V",
                      name="Victoria", password_hash=lab.passwords.hash_password("holder words 2026"),
                      is_active=True, email_verified=True, language="en")
        ss.add(holder)
        ss.flush()
        ss.add(UserAccountLink(user_id=holder.id, account_id=acc.id, created_at=NOW - timedelta(days=30)))
        return house.id, f11.id, number, holder.login


def _customers(lab: Lab, n: int) -> list[int]:
    from gazportal.db import write_session
    from gazportal.models import User

    out = []
    with write_session(lab.engine) as ss:
        for _ in range(n):
            k = next(lab.numbers)
            u = User(login=f"att{k}@example.kz", email=f"att{k}@example.kz", surname="A", name="A",
                     password_hash="x", is_active=True, language="en")
            ss.add(u)
            ss.flush()
            out.append(u.id)
    return out


def neighbours_account_by_address(lab: Lab) -> str:
    """The reported attack: the address picker with house, flat and the number (all on the bill),
    from twenty portal users registered with the attacker's own bill, each from its own address."""
    from gazportal.services import accounts, throttle

    house, flat, number, holder = _house(lab)
    takes_payment = "last_payment" in inspect.signature(accounts.link_by_address).parameters
    users = _customers(lab, 20)
    before = len(lab.mails(holder))
    answers: dict[str, int] = {}
    linked_after = None
    for i in range(200):
        uid = users[i % len(users)]
        kwargs = {"source": throttle.Source(address=f"198.51.{i // 250}.{i % 250}"), "settings": lab.s} \
            if takes_payment else {}
        args = (house, flat, number, f"{1 + i}.00") if takes_payment else (house, flat, number)
        key = lab.refused(lambda uid=uid, args=args, kwargs=kwargs: accounts.link_by_address(
            lab.engine, lab.utility, uid, *args, now=NOW, **kwargs), fields=True)
        if key is None:
            linked_after = i + 1
            break
        answers[key] = answers.get(key, 0) + 1
    told = len(lab.mails(holder)) - before
    result = f"linked after {linked_after} tries" if linked_after else "not linked in 200 tries"
    return (f"{result} (answers: {answers or 'none'}); mails to the holder: {told}"
            + ("" if takes_payment else " (the picker asks no proof)"))


def holders_told_and_capped(lab: Lab) -> str:
    """Ten portal users who all have the bill (the proof leaked): how many get the account, and
    is its holder told?"""
    from gazportal.services import accounts, throttle

    house, flat, number, holder = _house(lab)
    takes_source = "source" in inspect.signature(accounts.link_by_payment).parameters
    before = len(lab.mails(holder))
    got = 0
    for i, uid in enumerate(_customers(lab, 10)):
        kwargs = {"source": throttle.Source(address=f"203.0.113.{i}"), "settings": lab.s} if takes_source else {}
        if lab.refused(lambda uid=uid, kwargs=kwargs: accounts.link_by_payment(
                lab.engine, lab.utility, uid, number, "100.00", now=NOW, **kwargs)) is None:
            got += 1
    told = len(lab.mails(holder)) - before
    return f"10 users with the right proof: {got} linked; mails to the holder: {told}"


def login_change(lab: Lab) -> str:
    u = lab.confirmed("owner4@example.kz")
    other = lab.auth.sign_in(lab.engine, lab.utility, u.login, "confirmed user 2026", now=NOW, settings=lab.s)
    before = len(lab.mails(u.login))
    kwargs = {}
    if "current_password" in inspect.signature(lab.auth.update_user_profile).parameters:
        refusal = lab.refused(lambda: lab.auth.update_user_profile(lab.engine, lab.utility, u.id,
                                                                   {"email": "thief@example.kz"}, now=NOW,
                                                                   settings=lab.s))
        kwargs["current_password"] = "confirmed user 2026"
    else:
        refusal = None
    lab.auth.update_user_profile(lab.engine, lab.utility, u.id, {"email": "thief@example.kz"}, now=NOW,
                                 settings=lab.s, **kwargs)
    told = len(lab.mails(u.login)) - before
    lab.auth.confirm_email_change(lab.engine, lab.token(lab.mails("thief@example.kz")[-1].text, "/confirm-email"),
                                  now=NOW, settings=lab.s)
    alive = lab.auth.resolve_session(lab.engine, other.token, now=NOW, settings=lab.s) is not None
    undo = [m for m in lab.mails(u.login) if "/email-undo?token=" in m.text]
    return (f"without the password: {'refused (' + refusal + ')' if refusal else 'accepted'}; mails to the old "
            f"address: {len(lab.mails(u.login)) - before} ({told} at the request), with an undo link: "
            f"{bool(undo)}; another session still signed in after the change: {alive}")


def current_password_guessing(lab: Lab) -> str:
    from gazportal.services.errors import FormErrors

    u = lab.confirmed("owner5@example.kz")
    answers: list[str] = []
    for i in range(30):
        try:
            lab.auth.change_password(lab.engine, lab.utility, u.id, f"guess {i}", "brand new words 88",
                                     "brand new words 88", now=NOW, settings=lab.s)
        except FormErrors as e:
            answers.append(e.fields["current"].key.removeprefix("errors."))
    locked = lab.refused(lambda: lab.auth.sign_in(lab.engine, lab.utility, u.login, "confirmed user 2026",
                                                  now=NOW, settings=lab.s))
    counts = {a: answers.count(a) for a in sorted(set(answers))}
    return (f"30 wrong current passwords on /password: {counts}; the right password at sign-in then: "
            f"{locked or 'signed in'}")


def mail_as_weapon(lab: Lab) -> str:
    u = lab.confirmed("owner6@example.kz")
    before = len(lab.mails(u.login))
    number = lab.account()
    for i in range(31):
        lab.register(u.login, "whatever words 77", number=number, now=NOW + timedelta(minutes=i))
    told = len(lab.mails(u.login)) - before
    spam = ("Win a prize: evil.example/" + "x" * 100)[:100]
    lab.register("stranger@example.kz", "whatever words 77", name=spam)
    body = lab.mails("stranger@example.kz")[-1].text
    return (f"31 registrations of a taken e-mail: {told} mails to its owner; a 100-character name of the "
            f"sender's choosing in the confirmation mail to an unconfirmed address: {spam in body}")


def look_alikes(lab: Lab) -> str:
    lab.confirmed("victim7@example.kz")
    before = lab.count_users()
    made = []
    for other in ("viсtim7@example.kz", "ｖictim7@example.kz"):
        lab.register(other, "whatever words 77")
        made.append(lab.count_users() > before)
        before = lab.count_users()
    return f"viсtim7@ (Cyrillic с) a new user: {made[0]}; ｖictim7@ (full-width) a new user: {made[1]}"


def resend_timing(lab: Lab) -> str:
    lab.passwords.use_parameters()  # production cost: as a visitor would meet it
    lab.register("pending8@example.kz", "whatever words 77")
    lab.confirmed("done8@example.kz")
    logins = ("pending8@example.kz", "nobody8@example.kz", "done8@example.kz")
    times: dict[str, list[float]] = {who: [] for who in logins}
    for _ in range(30):
        for who in logins:  # in turn, so that warming up and the machine's load weigh on each alike
            t0 = time.perf_counter()
            lab.auth.resend_confirmation(lab.engine, lab.utility, who, now=NOW, settings=lab.s)
            times[who].append(time.perf_counter() - t0)
            lab.notify.wait_idle()
    medians = {who.split("8@")[0]: statistics.median(t) * 1000 for who, t in times.items()}
    return "medians over 30 tries: " + ", ".join(f"{k} {v:.2f} ms" for k, v in medians.items())


def housekeeping(lab: Lab) -> str:
    lab.register("never9@example.kz", "whatever words 77")
    later = NOW + timedelta(days=2)
    lab.register("someone9@example.kz", "whatever words 77", now=later)  # a write two days later
    purge = getattr(lab.auth, "purge_unconfirmed", None)
    if purge is not None:
        purge(lab.engine, now=later)
    lab.notify.wait_idle()
    return f"a registration never confirmed, 2 days later, still stored: {lab.user('never9@example.kz') is not None}"


ATTACKS = [("1 neighbour's account by address", neighbours_account_by_address),
           ("1 a leaked proof", holders_told_and_capped), ("3 pre-registration", pre_registration),
           ("3 registration after the owner", registration_after_the_owner), ("4 login change", login_change),
           ("4 current password", current_password_guessing), ("5 mail as a weapon", mail_as_weapon),
           ("6 look-alike logins", look_alikes), ("7 resend timing", resend_timing),
           ("8 housekeeping", housekeeping)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    lab = Lab(args.root.resolve())
    print(f"checkout: {args.root.resolve()}")
    for name, attack in ATTACKS:
        print(f"{name}: {attack(lab)}", flush=True)


if __name__ == "__main__":
    main()
