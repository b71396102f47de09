"""Text in another language, for the guard (memcli.strategy.guard_rules): whether a text is not
English (py3langid), and which steering functions it has, read from stems many languages share."""

from __future__ import annotations

import functools
import re

# Functions named by stems that many languages share or that are listed per language (Romance,
# Germanic, Slavic, Turkish, Greek, Indonesian, Vietnamese, Hindi, Arabic, Chinese, Japanese,
# Korean). Only read for text in another language: the English cues of guard_rules cover English.
FOREIGN_STEMS = {
    "memory": re.compile(
        r"memor|mémoir|merk dir|merke dir|speicher|gedächtnis|onthoud|geheugen|zapami|pamię|запомн|памят|lembr|"
        r"recuerd|guárd|guardalo|ricorda|souviens|retiens|hafıza|kaydet|unutma|kom ihåg|husk|muista|θυμήσου|"
        r"μνήμη|ingat|simpan|hãy nhớ|ghi nhớ|याद|تذكر|احفظ|記憶|覚え|记住|记忆|記住|기억|저장", re.I),
    "others": re.compile(
        r"usuari|utilisat|utent|nutzer|benutzer|gebruiker|użytkown|uživatel|пользоват|kullanıcı|användare|bruger|"
        r"bruker|käyttäj|χρήστ|pengguna|người dùng|उपयोगकर्ता|المستخدم|ユーザー|사용자|用户|用戶|quelqu'un|alguien|alguém|"
        r"qualcuno|chiunque|jemand|jede[mnrs]?\b|iemand|iedereen|ktoś|każd|kdokoli|кто-|кто угодно|каждо|любому|всем\b|"
        r"herkes|\bbiri\b|todos|tout le monde|chaque|\bcada\b|\bogni\b|\belke\b|alla användare|siapa pun|bất kỳ ai|"
        r"कोई भी|أي شخص|誰か|誰が|누가|누구|有人|任何人|所有人|每个人", re.I),
    "rules": re.compile(
        r"instru|anweisung|regeln\b|sicherheitsregel|\breglas\b|règles\b|regole\b|regras\b|reguł|pravidl|правил|"
        r"filt|фильтр|restri|beschränk|ograni|огранич|kısıtla|sınırla|prompt|aturan|quy tắc|नियम|القواعد|指令|指示|"
        r"规则|規則|ルール|制限|규칙|제한|κανόν", re.I),
    "authority": re.compile(
        r"admin|админ|autori[sz]|autoriz|berecht|uprawn|yetki|entwickler|desarroll|développeur|sviluppat|"
        r"ontwikkelaar|разработчик|geliştirici|管理|관리자|개발자|開発者|开发者", re.I),
    "sensitive": re.compile(
        r"passw|parol|пароль|şifre|contrase|senha|mot de passe|wachtwoord|hasł|heslo|lösenord|kata sandi|mật khẩu|"
        r"कार्ड|بطاقة|kredi|tarjeta|cartão|carte bancaire|kreditkarte|karta|карт|banc|bank|банк|dinheiro|dinero|"
        r"argent|geld|pieniąd|деньг|soldi|パスワード|비밀번호|密码|密碼|钱|お金|돈|신용카드|クレジット", re.I),
}
# Memory, others and rules are what an attack does; authority and secrets only add to them (a system
# administrator or a password manager is an ordinary fact in any language).
FOREIGN_WEIGHT = {"memory": 0.35, "others": 0.35, "rules": 0.35, "authority": 0.2, "sensitive": 0.2}


@functools.cache
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # ~1 s to load: only when first needed

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def is_foreign(text: str) -> bool:
    """Not English, the language of the conversation (the shipped model speaks English): py3langid
    says another language with some confidence ('zxx', no language, is an encoded run, not a
    language), or most letters are from another script."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 8:
        return False
    if sum(c.isascii() for c in letters) / len(letters) < 0.5:
        return True
    lang, confidence = _language_identifier().classify(text)
    return lang not in ("en", "zxx") and confidence >= 0.5


def foreign_functions(t: str) -> list[str]:
    """Which functions a text in another language has, from stems shared across many languages."""
    return [name for name, rx in FOREIGN_STEMS.items() if rx.search(t)]

