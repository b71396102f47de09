"""What does a text *do*? The judgement behind the `guard` strategy.

A-MemGuard's observation: a poisoned memory does not describe the person, it steers the
agent — it is addressed to the assistant (or to whatever reads the text later), asks it for a
future action, widens its authority or turns its safeguards off, or routes something (data,
money, credentials, people) to a destination. The words vary without end; those functions do not.
Each cue family below stands for one such function, and was widened by asking what separates
any attack of a class from any benign look-alike (docs/reliability.md lists them with weights).

1. `normalise` (memcli.strategy.disguises) undoes disguises first: NFKC, zero-width and
   Unicode-tag characters, URL/HTML/backslash escapes, homoglyphs, spaced-out letters, base64 /
   hex / binary runs, reversed and Caesar-shifted runs, leetspeak, upside-down letters. A
   disguise is itself a signal.
2. `judge` scores functions: directive, persistent (standing) and general rule, audience
   (other people), rules (the assistant's rules, configuration or safeguards), obligation and
   permissions, authority (claimed roles, commitments the assistant never made), destination,
   addressed (to the assistant or a later reader), structure and hidden markup, persona, and —
   for text in another language (memcli.strategy.languages) — the same functions read from
   stems many languages share. Quoted words the speaker only reports, and remarks about attacks, are
   capped at "doubtful".
   A person's own preferences ("Always call me Sam", "keep answers short", "my doctor says
   I must avoid gluten") are directives without audience, rules, authority or destination,
   and stay below the threshold.
3. The caller may add the embedder's similarity to a few *intent* prototypes (INTENTS:
   descriptions of what an attack does, not example attacks) as one more signal.

Why one module of ~500 lines: most of it is the table of cue patterns, and `judge` gives each
its weight. A pattern is read with its weight and the exceptions judge makes for it (a
person's own preference, a quoted report); kept apart, each would be checked without the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memcli.strategy.addresses import EMAIL, PHONE, links
from memcli.strategy.disguises import normalise
from memcli.strategy.languages import FOREIGN_WEIGHT, foreign_functions, is_foreign

THRESHOLD = 1.0
# Below THRESHOLD but at or above DOUBT, a memory reaches the context only marked as unverified.
DOUBT = 0.5

# -- the functions a text can have ----------------------------------------------------------------

def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(parts), re.I | re.M)


_ASSISTANT = r"(?:you|your|the (?:assistant|ai|model|bot|agent|chatbot|llm)|assistant)"
_OTHERS = _rx(
    r"\b(?:every|each|any|all|other|the next|future|new)\s+(?:\w+\s+)?(?:users?|persons?|people|customers?|"
    r"visitors?|clients?|members?|callers?|agents?|accounts?|profiles?|readers?|sessions?)\b",
    r"\b(?:anyone|anybody|everyone|everybody|whoever|someone|somebody|strangers?|people)\b",
    r"\ba user\b|\bthe (?:person|user)\b(?! (?:is|was) me)|\bfor (?:all|everyone)\b|\bother(?:s| users)\b",
    r"\b(?:users|customers|clients|visitors|patients|parents|students|readers|followers|subscribers|viewers|"
    r"buyers|guests|callers|members|employees|whoever comes next|nobody else|no one else)\b",
    r"\b(?:every|each|any|all|other)\s+(?:\w+\s+){0,2}?\w+\s+(?:who|that|asking|wanting)\b",
    r"\b(?:if|when|whenever|once|should)\s+(?:[\w']+\s+){1,3}(?:contacts?|messages?|asks?|writes?|talks? to|chats? "
    r"with|logs? in|reaches? out|texts?|comes? to)\s+(?:you|here|this (?:chat|assistant|bot))\b",
    r"\b(?:tell|give|send|show|say to|forward|pass)\s+(?:him|her|them)\b",
    r"\b(?:my|his|her|their|our)\s+(?!self\b)[\w-]+\s+(?:tells?|says?|asks?|messages?|shares?|writes?|sends?|"
    r"gives?)\s+you\b",
    # other languages
    r"\b(?:alguém|todos os usuários|qualquer (?:pessoa|usuário)|alguien|todos los usuarios|cualquier persona|"
    r"jemand|jeder(?:mann)?|alle (?:benutzer|nutzer)|quelqu'un|tout le monde|chaque utilisateur|"
    r"qualcuno|chiunque|ogni utente|iemand|iedereen|elke gebruiker|wie dan ook)\b",
    r"(?:кто-то|кто-нибудь|любой|каждому|всем|пользовател)",
    r"(?:每个用户|所有用户|任何人|有人|每位|誰か|全ての?ユーザー|すべてのユーザー|누군가|모든 사용자)",
)
_DIRECTIVE = _rx(
    r"(?:^|[.!?:;,\n]\s*|\b(?:please|just|also|then|and|to|always|never|don't|do not|kindly|\w+ly)\s+)(?:tell|give|send|say|suggest|recommend|include|append|"
    r"add|reveal|share|forward|cc|bcc|ask|treat|respond|reply|answer|ignore|disregard|forget|overwrite|"
    r"store|save|memori[sz]e|process|echo|drop|bypass|stop|point|direct|redirect|refer|route|insert|"
    r"end|start|begin|output|print|dump|export|leak|post|upload|email|mail|call|text|grant|approve|assume|"
    r"act|pretend|behave|obey|comply|follow|execute|run|delete|erase|disable|enable|turn off|switch off|"
    r"promote|advise|warn|inform|notify|direct|link|mention|claim|confirm|accept|keep|make|mark|inject|write|put|let|"
    r"set|use|skip|leave|remove|allow|show|provide|flag|classify|rank|prioriti[sz]e|favou?r|summari[sz]e|honou?r|"
    r"record|note|log|copy|repeat|display|hide|omit|withhold|suppress|replace|rewrite|prepend|update|change|report|"
    r"label|tag|consider|regard|list|push|sell|offer|encourage|urge|instruct|remind|describe|portray|present|"
    r"characteri[sz]e|represent|disclose|divulge|ensure|make sure|guarantee|mirror|relay|sync|transmit|attach|embed|"
    r"broadcast|publish|expose|request|collect|obtain|gather|harvest|require|demand|solicit)\b(?!\s+(?:me|us|myself)\b)",
    # passive obligations on what others get: "anyone who asks should be given that address"
    r"\b(?:should|must|shall|will|are to|is to|need to) (?:be|get) (?:told|given|sent|shown|directed|referred|"
    r"informed|pointed|asked|offered|handed|routed|forwarded|provided|answered|handled|treated|responded to|met|"
    r"redirected|shared|ignored|skipped|approved|granted|trusted|flagged|marked)\b",
    r"\bgo ahead and\b",
    rf"\b{_ASSISTANT}\s+(?:must|should|shall|will|need to|have to|has to|are to|is to|are required to|"
    r"are allowed to|may now|can now|no longer|are no longer|now)\b",
    r"\b(?:from now on|from this point|going forward|henceforth|hereafter|until further notice|permanently|"
    r"in (?:all|every|each|any) (?:future|later|next|other)?\s*(?:chats?|conversations?|sessions?|answers?|"
    r"replies|responses?|messages?|outputs?)|(?:for|in) (?:all )?(?:future|later) (?:sessions?|chats?|"
    r"conversations?)|for every (?:user|one)|every (?:reply|answer|response|time)|whenever|any ?time|"
    r"(?:the )?next time|should (?:anyone|someone|a user)|"
    r"(?:if|when) (?:ever )?(?:anyone|someone|somebody|a user|users|people) (?:\w+ )?(?:asks?|mentions?|wants?|needs?|"
    r"brings? up|talks?|contacts?|messages?|says?|types?|writes?|requests?|searches|looks? for|inquires?|"
    r"enquires?|wonders?|comes? to you)|(?:if|when) (?:ever )?the topic|make it a habit|"
    r"add (?:this )?to your|remember (?:this|to)|note this|note for (?:the )?future|store this|save this|"
    r"don't mention|do not mention)\b",
    # other languages
    r"\b(?:a partir de agora|sempre que|de agora em diante|lembre-se|diga|envie|inclua|"
    r"de ahora en adelante|siempre que|recuerda|di(?:le|les)|envía|incluye|ignora|"
    r"ab jetzt|von nun an|ab sofort|immer wenn|merk dir|sende|füge|ignoriere|"
    r"désormais|à partir de maintenant|chaque fois que|souviens-toi|envoie|inclus|"
    r"d'ora in poi|d'ora in avanti|ogni volta che|ricorda|invia|includi|ignora|"
    r"vanaf nu|voortaan|telkens als|onthoud|zeg|stuur|voeg|negeer|moet je)\b",
    r"(?:отныне|с этого момента|запомни|навсегда|всегда|если кто|скажи|советуй|отправ|игнорируй|"
    r"从现在开始|今后|以后|每当|记住|忽略|发送|告诉|今後|これから|覚えて|無視|送って|앞으로|기억해|무시)",
)
# A verb after a subject is a report, not a request: "I always tell my students …".
# "to VERB" after these is a purpose or a plan, not a request ("jailbreaks try to make models …").
_NOT_A_REQUEST_TO = re.compile(r"\b(?:try|tries|tried|trying|how|able|used|want|wants|wanted|going|went|plan|plans|"
                               r"planned|decided|learn|learned|learning|order|way|ways|easy|hard|time|ready|like|"
                               r"love|hate|need|needs|needed|have|has|had|got|consented|agreed) +$", re.I)
_SUBJECT = re.compile(r"\b(?:i|we|he|she|they|it|who|that|which|people|my|our|his|her|their) +$|"
                      r"\b(?:teach|tell|told|ask|remind|taught|warn|advis|encourag|want|get|got|help|train|urg)\w*\s+"
                      r"(?:my|our|his|her|their|the|these|those|them|him|people|everyone|kids|children)\b[^.!?\n]{0,30}$",
                      re.I)
_SCRIPTED = _rx(
    r"\b(?:answer|respond|reply|say|tell|state|claim|write)\w*\b[^.\n]{0,60}?(?:\bwith\b|\bthat\b|:)\s*[\"'“‘]",
    r"\b(?:default|standard|only|canned|stock|fixed) (?:answer|response|reply)\b",
    r"\b(?:answer|respond|reply)\w* (?:only )?with (?:the words?|this|that)\b",
)
_SELF_SCOPE = re.compile(r"\b(?:me|my|mine|myself|i|i'm|i've|i'd|us|our)\b", re.I)
# Nouns that name the assistant's own rules wherever they appear, and generic ones ("filters",
# "checks", "settings") that do so only with a qualifier ("your", "all", "safety", "content"…):
# "I removed the filters from my coffee machine" changes no one's rules.
_AI_RULES = (r"(?:instructions?|guidelines?|prompts?|guardrails?|safeguards?|safety (?:rules?|filters?|policy|"
             r"settings?|guidelines?)|moderation|content (?:policy|filters?|restrictions?|rules?)|directives?|"
             r"programming|training|disclaimers?|refusals? (?:module|mode|behaviou?r|policy|logic|layer|training)|"
             r"safety (?:module|layer|checks?|net|features?|team)|alignment)")
_GENERIC_RULES = r"(?:rules?|polic(?:y|ies)|restrictions?|filters?|limits?|checks?|protections?|settings?|verification)"
_QUALIFIER = (r"(?:your|all|any|every|previous|prior|above|earlier|original|content|safety|system|its|these|those|"
              r"the assistant's|current|existing)")
_RULES = _rx(
    r"\b(?:ignore|disregard|forget|override|overwrite|bypass|suspend(?:ed)?|lift(?:ed)?|remove[ds]?|drop(?:ped)?|"
    r"disable[ds]?|turn(?:ed)? off|switch(?:ed)? off|circumvent|skip|stop (?:adding|following|applying|using)|"
    r"no longer (?:needs?|apply|applies|required|protect)|don't apply|do not apply|only applies|are off|is off|"
    rf"not bound)\b[^.\n]{{0,60}}?\b(?:{_AI_RULES}|{_QUALIFIER}\s+(?:[\w-]+\s+){{0,2}}{_GENERIC_RULES})\b",
    rf"\b(?:{_AI_RULES}|{_QUALIFIER}\s+(?:\w+\s+){{0,2}}{_GENERIC_RULES}|safety \w+)\b[^.\n]{{0,60}}\b(?:suspended|"
    r"lifted|removed|disabled|off|no longer|don't apply|do not apply|only applies|are void|overridden|unnecessary|"
    r"not needed|waived|relaxed|updated|changed|switched|revised|amended|permissive|allowed|permitted|deprecated|"
    r"skipped|bypassed|ignored|expired|obsolete|outdated|replaced|reset|unlocked|retired|rolled back|revoked)\b",
    # the assistant's own configuration, said to have changed: "your moderation settings were switched"
    r"\b(?:your|the assistant's|the model's|the ai's)\s+(?:[\w-]+\s+){0,2}?(?:polic(?:y|ies)|settings?|moderation|"
    r"filters?|safety|restrictions?|limits?|modules?|mode|config(?:uration)?|guardrails?|refusals?|permissions?|"
    r"defaults?|parameters?|behaviou?r|ethics|values|principles|constraints|memory)\b[^.\n]{0,60}?\b(?:updated|"
    r"changed|switched|disabled|deprecated|removed|turned off|lifted|relaxed|permissive|unrestricted|allowed|"
    r"permitted|no longer|suspended|waived|reset|replaced|rewritten|overridden|unlocked|expired|void|obsolete|"
    r"don't apply|do not apply|retired|rolled back|revoked|cancell?ed|ended|paused|lifted|patched out)\b",
    r"\b(?:unrestricted|uncensored|unfiltered|unmoderated)\s+(?:\w+\s+)?(?:output|answers?|responses?|mode|access|"
    r"replies|content|version|assistant|ai|model)\b",
    r"\b(?:outrank|override|overrides|supersede|supersedes|take precedence over|takes precedence over|priority over|"
    r"trump|trumps|before|above|ahead of|instead of|rather than|over)\s+(?:any|all|every|the|your|its|my)?\s*(?:system|"
    r"instructions?|rules?|prompts?|safety|polic(?:y|ies)|guidelines?|guardrails?)\b",
    r"\b(?:overwrite|replace|rewrite|erase|wipe|reset)\b[^.\n]{0,20}\b(?:whatever|everything|all|what|anything) "
    r"(?:you|the assistant) (?:know|knows|learned|have|remember|were told)\b",
    r"\b(?:system|hidden|secret|original|initial|internal) (?:prompt|instructions?|message)\b",
    r"\b(?:developer|debug|god|admin|jailbreak|unrestricted|unfiltered|maintenance) mode\b",
    r"\b(?:your|the assistant's|its) (?:only |new |real |permanent |core )?(?:rules?|instructions?|directives?|"
    r"identity|persona|programming|guidelines?)\b",
    r"\bno (?:rules|restrictions|filters|limits|ethical limits|ethics|guidelines|disclaimers)\b",
    r"\b(?:superuser|root|admin(?:istrator)?|elevated|full|top|security|god) (?:privileges?|access|rights|"
    r"permissions?|clearance|status)\b",
    r"\b(?:ignora|ignore|ignoriere|negeer|игнорируй|忽略|無視)\b[^.\n]{0,40}"
    r"(?:instru|regra|regla|Anweisung|regels|инструкц|指令|指示|规则)",
)
# Rules by another name: what the assistant must always / never do, however it is phrased.
_OBLIGATION = _rx(
    r"\b(?:the|this) (?:assistant|ai|model|bot|chatbot|agent|llm|system|helper|copilot)\b[^.\n]{0,20}\b(?:must|should|shall|has to|needs? to|"
    r"is (?:required|allowed|permitted|not allowed|forbidden|to)|may (?:now|not)|no longer|will (?:always|never))\b",
    r"\b(?:never|don't|do not|stop|no longer) (?:refuse|refusing|decline|declining|say no|question|warn|warning|"
    r"check|verify|ask for (?:confirmation|consent)|flag|report|block|filter|censor|moderate|escalate)\b|\balways (?:comply|obey|agree|say yes|approve)\b",
    r"\bwithout (?:any )?(?:checks?|checking|verification|verifying|questions?|questioning|refusing|restrictions?|"
    r"limits?|filters?|warnings?|disclaimers?|consent|confirmation|caveats?|hedging|safety notes?)\b",
    r"\b(?:leave out|omit|drop|remove|skip|hide|strip|suppress|stop (?:adding|giving|including|showing))\b[^.\n]{0,30}"
    r"\b(?:warnings?|safety (?:notes?|info\w*|advice|messages?)|disclaimers?|caveats?|hedg\w+|risks?)\b",
    r"\byou (?:can|may|are free to|are (?:now )?able to|have permission to|are welcome to)\s+(?:now\s+|also\s+)?"
    r"(?:share|give|send|reveal|disclose|release|hand out|provide|forward|leak|expose|prescribe|diagnose|skip|ignore|"
    r"bypass|drop|sell)\b(?!\s+(?:me|us)\b)",
    # permissions granted to the assistant or to an account
    r"\b(?:you|the (?:assistant|ai|model|bot|agent|system|user)|this (?:assistant|model|bot|chat|account|user))\s+"
    r"(?:is|are|'re|has been|have been|was|were|has|have)\s+(?:now\s+|officially\s+|hereby\s+|already\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:cleared|allowed|permitted|authori[sz]ed|licensed|exempt|unlocked|entitled|whitelisted|"
    r"consented|agreed|opted in|(?:pre-)?approved|pre-cleared|greenlit|vetted)\s+(?:to|for|from)\b",
)
_PERSIST = _rx(
    r"\b(?:from now on|from this point on|going forward|henceforth|permanently|forever|until further notice|"
    r"in (?:all|every|each|any) (?:future |later |other )?(?:chats?|conversations?|sessions?|answers?|replies|"
    r"responses?|messages?|outputs?)|(?:for|in) all future|every (?:reply|answer|response)|"
    r"at the (?:start|end|beginning|bottom|top) of (?:every|each|all))\b",
    r"\b(?:next time|each time|every time|whenever|any ?time|after today|from today|effective (?:now|immediately|"
    r"today)|from (?:this|that) (?:point|day|"
    r"moment)|once (?:i'm|i am|this|the)|(?:all|any|every|each) (?:future |later |new )?(?:questions?|requests?|queries|"
    r"answers?|replies|responses?|prompts?|conversations?|summar(?:y|ies)|recommendations?|sessions?|chats?|topics?|"
    r"messages?|texts?|inputs?|commands?|instructions?))\b",
    r"\b(?:for|in|into|to|update|add to) (?:your|the assistant's) (?:records?|notes?|knowledge(?: base)?|memory|"
    r"memories|files?|database|profile|long-term \w+|permanent \w+)\b|"
    r"\b(?:long-term|core|permanent|persistent|standing) (?:memory|note|record|rule|fact|instruction|order)|\bstanding (?:fact|rule|order|instruction)|"
    r"\bkeep (?:this|that|it) (?:in mind|as)\b|\bmemori[sz]e\b|\b(?:save|store|record|commit) "
    r"(?:this|that|it)\b(?! (?:down|up|off|in my))|\bmake it a habit\b|\bas a (?:habit|rule)\b|\bby default\b|"
    r"\broutinely\b|\b(?:on|to|for) (?:anything|everything|any question)\b|"
    r"\b(?:default|standard|canned|stock) (?:answer|response|reply)\b",
    r"\b(?:a partir de agora|de agora em diante|de ahora en adelante|von nun an|ab jetzt|désormais|"
    r"d'ora in poi|vanaf nu|voortaan)\b|(?:отныне|с этого момента|навсегда|从现在开始|今后|今後|これから|앞으로)",
)
_AUTHORITY = _rx(
    r"\b(?:as|i am|i'm|this is) (?:the|an?|your) (?:system |lead |senior |chief |head |root |principal )?"
    r"(?:admin(?:istrator)?|developer|operator|owner|creator|moderator|engineer|staff|maintainer|sysop)\b"
    r"(?! (?:of|at|for|on|in) (?:a|my|our|the)\b)",
    r"\bwho (?:built|made|created|trained|programmed|designed|coded|deployed|owns|runs|wrote) you\b|"
    r"\byour (?:owner|creator|maker|developers?|admin(?:istrator)?|operators?|master|boss|handler|trainers?)\b",
    r"\b(?:official|urgent|mandatory) (?:notice|message|update|memo|bulletin|announcement|directive)\b|"
    r"\btrust ?(?:&|and) ?safety\b|\b(?:alignment|safety) team\b|\b(?:on behalf of|speaking for|for) the "
    r"(?:[\w-]+'s )?(?:trust|safety|security|policy|moderation|admin|engineering|dev(?:elopment)?|platform) team\b",
    r"\b(?:already |has |have )*(?:passed|cleared|approved|verified|whitelisted)\s+(?:\w+\s+)?(?:safety|security|"
    r"content|compliance|policy) ?(?:review|check|moderation|audit|verification|screening)\b",
    # a commitment the assistant never made: "you previously agreed", "you've already verified my identity"
    r"\byou(?:'ve| have)? (?:already |previously |earlier |once |just )?(?:agreed|promised|confirmed|verified|approved|"
    r"consented|accepted|unlocked|granted|authori[sz]ed)\b",
    r"\b(?:message|notice|update|instruction|directive|memo) from (?:the )?(?:openai|anthropic|google|microsoft|meta|"
    r"admin|administrat\w+|developers?|staff|legal|compliance|security team|management|headquarters|it|support)\b",
    r"\b(?:i|we) (?:hereby )?(?:authori[sz]e|permit|allow|instruct|order|command) (?:you|the assistant)\b",
    r"\b(?:admin|override|authori[sz]ation|access|security) (?:override|code|token|key)\b",
    r"\b(?:policy|compliance|legal|security) (?:revision|update|change|notice|bulletin|directive)\b|"
    r"\bchangelog\b|\beffective immediately\b|\bred[- ]team\b",
    r"\b(?:verified|authori[sz]ed|certified) (?:administrator|admin|developer|operator|staff)\b",
    r"\b(?:trust[_ ]level|permissions?|perm|role)\b[\"']?\s*[:=]",
    r"\bprevious agent approved\b|\bapproved by (?:the )?(?:admin|system|management)\b",
)
_OWN = re.compile(r"\b(?:my|our)\s+(?:\w+\s+){0,3}(?:blog|site|website|email|e-mail|address|page|portfolio|"
                  r"handle|account|number|phone|mobile|channel|shop|store|profile|repo|podcast|newsletter|homepage|"
                  r"inbox|linkedin|instagram|twitter|github)\b|"
                  r"\b(?:reach|contact|email|call|text|find|ring|message) (?:me|us) (?:at|on|via)\b", re.I)
_SENSITIVE = _rx(
    r"\b(?:passwords?|passcodes?|pins?|cvv|cvc|security code|card (?:number|details)|card|seed phrase|"
    r"recovery phrase|private keys?|api keys?|credentials?|login details|one-time code|2fa|two-factor|"
    r"bank (?:details|account)|iban|routing number|social security|ssn|wallet|crypto|bitcoin|wire|"
    r"send money|pay(?:ment)?|billing|refunds?|donate|gift cards?|home address|addresses|phone numbers?|"
    r"stored (?:memories|facts)|saved memories|all memories|memory (?:database|file)|chat (?:logs?|history)|"
    r"conversations?|summary|summaries|timetable|personal data|medical records?|dosages?|medication|schedule|"
    r"(?:user|users'|customer|people's|others'|other people's) (?:data|e-?mails?|addresses|details|messages|"
    r"records|information|profiles?))\b",
    r"(?:senha|contraseña|Passwort|mot de passe|wachtwoord|пароль|密码|パスワード|dinheiro|Geld|geld|"
    r"деньги|钱|聊天记录|bankrekening|conta bancária|лекарств|дозу|investimentos)",
)
_STRUCTURE = _rx(
    r"<\|?\s*(?:im_start|im_end|start_header_id|end_header_id|eot_id|system|endoftext)\s*\|?>",
    r"</?\s*(?:system|user|assistant|instructions?|sys|tool_use|tool_call|function_call|invoke|parameter)\b[^>]*>",
    r"^\s*#{1,6}\s*(?:system|instructions?|admin)\b|\[/?(?:INST|SYS|SYSTEM)\]|<<\s*SYS\s*>>",
    r"^\s*(?:action|action input|tool|observation)\s*:\s*\w+",
    r"\[(?:system|admin|developer|sys)\]|(?:^|\n)\s*(?:system|admin|developer) (?:override|message|notice)\s*:",
    r"^\s*(?:role|from)\s*:\s*(?:system|developer|admin)\b|\"role\"\s*:\s*\"(?:system|developer)\"",
    r"\b(?:function_call|tool_calls?|tool_use|tool_name|functions?\.\w+|arguments\s*:)|\"arguments\"",
    r"[\"'](?:function|tool|action|command|method|endpoint|op|operation)[\"']\s*:\s*[\"'][\w.\-/]+[\"']",
    r"[\"'](?:args|arguments|params|parameters|input|payload)[\"']\s*:\s*\{",
    # a transcript forged inside one message: a line labelled as the system, or two speakers' labels
    r"(?:^|\n)\s*(?:system|developer|admin)\s*(?:message|prompt|note)?\s*:",
    r"(?:^|\n)\s*(?:human|user)\s*:[\s\S]*\n\s*(?:assistant|ai|bot)\s*:",
    r"\bon(?:error|load|click)\s*=|<script\b|"
    r"\bjavascript:|!\[[^\]]*\]\(\s*https?://[^)]*[?&][^)]*\)|\bfetch\(",
)
# Text a reader does not see: what it says is judged with the rest; hiding it is one more signal.
_HIDDEN_MARKUP = _rx(
    r"<!--[\s\S]*?-->|display\s*:\s*none|visibility\s*:\s*hidden|\[//\]:\s*#|"
    r"style\s*=\s*[\"'][^\"']*(?:font-size\s*:\s*0|opacity\s*:\s*0|color\s*:\s*(?:white|#fff\b|#ffffff|"
    r"transparent)|height\s*:\s*0|width\s*:\s*0)",
    r"\b(?:alt|title|aria-label|data-[\w-]+)\s*=\s*[\"'][^\"']{12,}[\"']",
)
_ADDRESSED = _rx(
    r"(?:^|[.!?\n\"'>(\[]\s*|\b(?:p\.?s\.?|side note|note)\b[^.\n]{0,15})"
    r"(?:assistant|ai|bot|chatbot|model|agent|llm|gpt|claude|system)\s*(?:note|notice)?\s*[:,]",
    r"\b(?:note|message|reminder|instructions?|memo) (?:to|for) (?:the |any |all |every )?(?:assistant|ai|bot|"
    r"model|agent|llm|you|reader|whoever|system)\b",
    r"\b(?:to|for|dear|hello|hi) (?:whoever|whomever|any(?:one)?|the next|every|all) [^.\n]{0,40}"
    r"\b(?:reads?|retrieves?|processes|processing|finds?|sees?|agents?|ai|llm|assistants?|models?|bots?)\b",
    r"\bif you are an? (?:ai|llm|language model|assistant|bot|agent|model)\b",
    r"\b(?:if|when|whenever|once) (?:this|these|the) (?:text|note|message|memory|memories|line|page|document|log|"
    r"file|conversation|chat)s? (?:is |are |gets? |ever )*(?:ever )?(?:loaded|read|retrieved|processed|seen|found|"
    r"summari[sz]ed|indexed|parsed|recalled|fed|injected|used)\b",
    r"\b(?:to|for) (?:the|any|every|whichever|whatever|each) (?:ai|model|assistant|llm|agent|bot|system|summari[sz]er|"
    r"reader|extractor|program)s?\b[^.\n]{0,30}\b(?:that|which|who)\b|\b(?:whichever|whatever) (?:ai|model|"
    r"assistant|llm|agent|bot|system|program)\b",
    r"\b(?:any|every|the|an?) (?:ai|assistant|model|llm|agent|bot|language model)s? (?:that )?(?:reading|reads|"
    r"processing|processes|retrieving|retrieves|seeing|sees|summari[sz]ing)\b",
    r"\b(?:dear|attention|hey|hello|hi|greetings)\s*,?\s*(?:[\w-]+\s+){0,3}(?:ai|assistant|model|llm|agent|bot|"
    r"chatgpt|gpt|claude|instance|summari[sz]er|extractor|reader|system|reviewer|moderator|classifier|scanner|"
    r"auditor|checker|grader|judge|filter)\b",
    # whatever processes this text later: the summariser, the memory extractor, the next instance
    r"\b(?:note|message|reminder|memo|instructions?|p\.?s\.?|attention|notice|warning|hint|request)\s+(?:for|to)\s+"
    r"(?:the\s+|any\s+|all\s+|every\s+|each\s+|a\s+)?(?:future\s+|next\s+|later\s+|other\s+|downstream\s+)?"
    r"(?:[\w-]+\s+)?(?:summari[sz]ers?|extractors?|indexers?|retrievers?|parsers?|classifiers?|rankers?|processors?|"
    r"crawlers?|scrapers?|annotators?|labell?ers?|reviewers?|graders?|pipelines?|instances?|models?|assistants?|ais?|"
    r"agents?|llms?|bots?|tools?|plugins?|versions?)\b",
    r"\b(?:side note|p\.?s\.?|btw|also)\s*(?:for you|to you)?\s*[:,]?\s*(?:tell|send|give|say|include|always|"
    r"whenever|from now on|recommend)\b",
)
_PERSONA = _rx(
    r"\byou are (?:now|no longer|from now|henceforth|called|named)\b|\byou're now\b|"
    r"\b(?:from now on|henceforth|going forward),? you(?:'re| are| will be)\b",
    r"\b(?:pretend|imagine|act as if|suppose) (?:that )?you(?:'re| are)\b|"
    r"(?:^|[.!?:;]\s*|\byou (?:will |should |must |shall |are to |can )?|\bplease )act as (?:an?|my|the|if)\b",
    r"\b(?:play a game where|roleplay|role-play)\b[^.\n]{0,40}\byou\b|\broleplay:",
    r"\byour (?:new |real |true )?(?:name|identity|persona|personality|character|purpose) (?:is|will be|shall be)\b|"
    r"\bremember who you are\b|\bstay in character\b|\b(?:default|new) (?:identity|persona|personality)\b(?! (?:card|document|theft))|"
    r"\bsave this persona\b|\bdo anything now\b|\bno ethical limits\b",
)
# Case matters here: "DAN" and "stay FreeGPT" are personas, "Dan" and "stay hydrated" are not.
_PERSONA_NAME = re.compile(r"\bDAN\b|\b(?:remember|continue|keep) to (?:be|stay|remain) "
                           r"(?:[A-Z][A-Za-z]*[A-Z][A-Za-z]*|in character)\b")
# Quoted words reported by the speaker ("the prank email said 'Dear AI, ignore your rules'").
_QUOTE = re.compile(r"(?<!\w)'[^'\n]{3,}?'(?!\w)|\"[^\"\n]{3,}?\"|“[^”\n]{3,}?”|«[^»\n]{3,}?»|‘[^’\n]{3,}?’(?!\w)")
_REPORTED = _rx(r"\b(?:said|says|saying|wrote|writes|written|showed|shows|shown|asked|asks|means|meant|reads|"
                r"called|titled|joke|meme|prank|sign|poster|tweet(?:ed)?|headline|quoted?|claimed|claims|printed|"
                r"message said|email said|works on|worked on|tried|example|phrase|line)\b")
# Talk *about* attacks: a remark with one of these and no directive, audience or destination is doubtful at most.
_ABOUT = _rx(r"\b(?:article|paper|talk|writing|post|news|thesis|research\w*|stud(?:y|ying|ies)|course|class|lecture|blog|"
             r"video|podcast|book|meme|joke|story|tried|attempted|ctf|demo|example|called|named|lol|haha|"
             r"attacks?|attackers?|injections?|jailbreak(?:s|ing)|red[- ]team(?:ing)?|vulnerabilit\w+|exploits?|"
             r"funny|hilarious|saw|read|heard|watched|learned|learning|teach\w*)\b")
_CORRECTION = _rx(  # a statement of change by the speaker: the world moved, or the speaker misspoke
    r"\b(?:actually|moved|moving|relocated|switched|changed|left|quit|started|became|got (?:promoted|transferred|"
    r"married|divorced|a new)|transferred|turned|now (?:live|work|am|have|take|use)|no longer|not anymore|anymore|"
    r"these days|since (?:last|this)|misspoke|i was wrong|i meant|correction|turns out|after all|"
    r"was diagnosed|retired|graduated|promoted|new (?:job|home|house|manager|doctor))\b",
)
# A request that changes what the assistant does from now on, for the speaker too ("always recommend …
# to me", "send me … every day", "stop warning me"): a correction states facts, it does not ask this.
_BEHAVIOUR = _rx(
    r"(?:^|[.!?:;,\n]\s*|\b(?:please|just|also|then|and|always|never|kindly|\w+ly)\s+)(?:recommend|suggest|tell|"
    r"send|give|stop|remove|treat|offer|show|push|encourage|include|skip|drop|ignore|forget|let|allow|assume|"
    r"answer|reply|respond)\b[^.\n]{0,80}\b(?:always|never|freely|anymore|any ?more|no longer|whenever|every|"
    r"each time|next time|from now on|going forward|daily|weekly|regularly|by default|all the time|"
    r"without (?:any )?(?:warnings?|checks?|limits?))\b",
    r"\b(?:always|never) (?:recommend|suggest|tell|send|give|offer|show|push|encourage|include|answer|remind)\b",
    r"\bstop (?:warning|reminding|telling|asking|checking|treating|mentioning|adding)\b",
)
# Asking for less ("never suggest running to me", "don't recommend horror films") protects the speaker:
# a correction may come with it. Stopping a safeguard ("stop warning me") is not this.
_RESTRICTION = _rx(r"\b(?:never|don't|do not|stop|no more|no longer)\s+(?:suggest|recommend|offer|show|send|give|"
                   r"mention|propose|book|include)\w*\b")
_RETRACTION = _rx(
    r"\bnever (?:had|did|have|was|were|been)\b|\b(?:forget|scrap|ignore|disregard|drop) (?:the|about|that|this|all|"
    r"what|my|everything)\b|\bnever ?mind\b|\bwas (?:a joke|joking|kidding|not true|a lie|made up|wrong)\b|"
    r"\bjust kidding\b|\bmade (?:that|it|this) up\b|\b(?:not|wasn't|isn't) true\b|\bnot (?:\w+ )?at all\b|"
    r"\b(?:i'm|i am) (?:completely |totally |perfectly )?(?:fine|healthy|ok|okay|cured) (?:with|now|actually)?\b",
)
_DENIAL = _rx(
    r"\b(?:not|never|no|don't|doesn't|isn't|aren't|wasn't|didn't|nothing|none|was a joke|just kidding|"
    r"made (?:that|it) up|ignore (?:what|that)|false|untrue)\b",
)


_SAFEGUARD = (r"(?:filter\w*|moderat\w*|safety|safeguards?|guardrails?|restrictions?|protections?|censor\w*|refusals?|"
              r"constraints?|limits?|polic(?:y|ies)|rules?|checks?|verification|disclaimers?|warnings?|privacy)")
_OFF_STATE = (r"(?:paused|off|disabled|lifted|removed|suspended|void|waived|(?:don't|do not|doesn't|does not|no longer) "
              r"apply|retired|deactivated|relaxed|gone|bypassed|overridden|dropped|cancell?ed|revoked|not needed|"
              r"scrapped|abolished|withdrawn|rescinded|repealed|"
              r"unnecessary|no longer (?:needed|required|active)|optional)")
_OFF_VERB = (r"(?:disable|lift|remove|suspend|waive|drop|bypass|skip|turn off|switch off|deactivate|relax|pause|ignore|"
             r"disregard|override|cancel|revoke|(?:exempt|free|freed|released|excused|unbound) from)")
_SAFEGUARD_OFF = _rx(rf"\b{_SAFEGUARD}\b[^.!?\n]{{0,50}}\b{_OFF_STATE}\b", rf"\b{_OFF_VERB}\b[^.!?\n]{{0,30}}\b{_SAFEGUARD}\b")
_FOR_ASSISTANT = _rx(r"\b(?:your|for you|the assistant|assistant's|assistant|the ai|the model|the bot|chatbot)\b|"
                     r"\bthis (?:workspace|account|session|chat|conversation|tenant|user|profile|instance|deployment)\b")


def _safeguard_off(t: str, directive: bool) -> bool:
    """A sentence that says a safeguard is off (or asks to turn it off) for the assistant or this account,
    or in a text that also tells the assistant what to do."""
    return any(_SAFEGUARD_OFF.search(sentence) and (directive or _FOR_ASSISTANT.search(sentence))
               for sentence in re.split(r"(?<=[.!?\n])\s+", t) if not sentence.rstrip().endswith("?"))


@dataclass(frozen=True)
class Verdict:
    score: float
    cues: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.score >= THRESHOLD

    @property
    def doubtful(self) -> bool:
        return DOUBT <= self.score < THRESHOLD


def _destination(text: str) -> str | None:
    """'foreign' for a URL, e-mail, handle or phone number that the speaker does not declare as their own,
    'own' for one they do ("my email is …"), None for none."""
    targets = [*links(text), *EMAIL.finditer(text), *PHONE.finditer(text)]
    if not targets:
        return None
    return "own" if _OWN.search(text) and len(targets) == 1 else "foreign"


def _directive(t: str) -> bool:
    """The text asks the assistant to act: an imperative or an obligation put on it, not a report of
    what someone does ("I always tell my students …")."""
    return any(not _SUBJECT.search(t[:m.start()])
               and not (m.group(0).lower().startswith("to ") and _NOT_A_REQUEST_TO.search(t[:m.start()]))
               for m in _DIRECTIVE.finditer(t))


def judge(text: str, intent: float | None = None) -> Verdict:
    """Score what `text` does (see the module docstring); `intent` is an optional 0..1 similarity
    to the attack-intent prototypes."""
    norm = normalise(text)
    t = norm.text
    cues: dict[str, float] = {}
    directive = _directive(t)
    others = bool(_OTHERS.search(t))
    if norm.disguises:  # a disguise is suspicious; one that hides a request is an attack
        cues["disguised"] = 0.8 if directive else 0.5
    if _STRUCTURE.search(t):
        cues["structure"] = 1.0
    if _RULES.search(t) or _safeguard_off(t, directive):
        cues["rules"] = 1.0
    if _PERSONA.search(t) or _PERSONA_NAME.search(t):
        cues["persona"] = 1.0
    obligation = bool(_OBLIGATION.search(t))
    if obligation:
        cues["obligation"] = 0.7
    standing = (directive or obligation) and bool(_PERSIST.search(t))
    if standing:
        cues["persistent"] = 0.4
        if not _SELF_SCOPE.search(t) and not text.rstrip().endswith("?"):
            cues["general rule"] = 0.3  # a standing rule, not about the speaker, not a question: for everyone
        elif _SCRIPTED.search(t):  # a canned answer from now on: words put in the assistant's mouth
            cues["scripted answer"] = 0.3
    if _AUTHORITY.search(t):
        cues["authority"] = 0.6
    if _ADDRESSED.search(t):
        cues["addressed"] = 0.6
    if directive:
        cues["directive"] = 0.3
    if (directive or obligation) and others:
        cues["audience"] = 0.7
    if _HIDDEN_MARKUP.search(t):
        cues["hidden markup"] = 0.5
    destination = _destination(t)  # somewhere to send things: more so for every answer or for others
    if destination == "foreign":
        cues["destination"] = 0.4 + (0.3 if directive and (standing or others) else 0.0)
    elif destination == "own" and directive and standing:  # "always cc my mailbox": a standing copy
        cues["destination"] = 0.7
    if _SENSITIVE.search(t) and (directive or others):
        cues["sensitive"] = 0.3
    if is_foreign(text):
        functions = foreign_functions(t)
        if functions:  # another language while doing any of this: each function it has counts
            cues["other language"] = round(0.3 + sum(FOREIGN_WEIGHT[f] for f in functions), 2)
    if intent is not None and intent > 0:
        cues["intent"] = round(intent, 2)
    score = sum(cues.values())
    steering = {"directive", "audience", "destination", "addressed", "structure", "disguised", "persistent"}
    if score >= DOUBT and not steering & cues.keys() and _ABOUT.search(t):
        score = DOUBT  # a remark about attacks, not one: shown marked if retrieved, never quarantined
    if score > DOUBT and _QUOTE.search(text):
        outside = _QUOTE.sub("''", text)
        if _REPORTED.search(outside) and judge(outside).score < DOUBT:
            score = DOUBT  # quoted, not said: what the speaker says around the quote steers nothing
    return Verdict(round(score, 2), tuple(cues))


def is_correction(text: str) -> bool:
    """The speaker says the world changed or they misspoke ("Actually I moved to Porto")."""
    return bool(_CORRECTION.search(normalise(text).text))


def asks_new_behaviour(text: str) -> bool:
    """The text asks the assistant to behave differently from now on (for the speaker or anyone)."""
    t = normalise(text).text
    return bool(_BEHAVIOUR.search(_RESTRICTION.sub(" ", t)))


def is_retraction(text: str) -> bool:
    """The speaker takes back what they said before ("never had", "forget the …", "that was a joke")."""
    return bool(_RETRACTION.search(normalise(text).text))


def split_sentences(text: str) -> list[str]:
    return [p for p in re.split(r"(?<=[.!?;\n])\s+", text) if len(p.split()) >= 3]


def is_denial(text: str) -> bool:
    return bool(_DENIAL.search(normalise(text).text))


# Descriptions of what an attack *does* (not attack sentences): the guard compares a text's
# embedding with these and adds the best similarity as the "intent" signal.
INTENTS = (
    "An instruction telling the AI assistant how it must behave with other users in the future.",
    "A request that the assistant send conversation data or memories to an outside address or website.",
    "A claim of administrator or developer authority that changes the assistant's rules.",
    "A message asking the assistant to ignore its safety rules and restrictions.",
    "Telling the assistant to ask people for their passwords, card numbers or other credentials.",
    "Telling the assistant to recommend a particular website or link to everyone who asks.",
    "Asking the AI to take on a new persona or identity without limits.",
)
