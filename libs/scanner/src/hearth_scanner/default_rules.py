# ruff: noqa: E501  (a rule table: the formatter indents each pattern string past the limit)
"""The rules shipped with the scanner: phrase families per indicator, read on normalised text.

Each rule is (id, indicator, strength, pattern, unless, why). `strength` is how sure the
phrase alone makes us (0.9 strong: flag in any context; 0.7 moderate: flag unless the sender
is a peer or a trusted adult; 0.55 weak: only from a stranger adult or a much older minor).
`unless` names a context that makes the phrase innocent (a surprise party's secret, a photo
of homework). Words in braces are families expanded by :func:`expand`. A signed pack may
replace these; they are the pack's `rules` once expanded.

This module is long because it is the rule table itself: data, one line of it per rule.
"""

from __future__ import annotations

FAMILIES = {
    "YOU": r"(?:you|yourself)",
    "YOUR": r"(?:your|you)",
    "FAMILY": (
        r"(?:mum|dad|parents?|family|carers?|teachers?|step ?(?:mum|dad)|nan|gran|grandma|"
        r"grandad|brothers?|sisters?|foster (?:mum|dad|carers?|parents)|aunt|auntie|uncle|"
        r"friends|mates|anyone at school|the school|social worker|youth worker)"
    ),
    "APP": (
        r"(?:snap|insta|whatsapp|wa|telegram|tg|discord|kik|wickr|signal|tiktok|viber|skype|"
        r"messenger|facebook|fb|wechat|threema|session app|omegle|line app|google chat|"
        r"hangouts|imessage|facetime|twitter|x app|reddit|roblox dms?|xbox party)"
    ),
    "PIC": r"(?:pics?|selfie|nudes?|vids?|videos?|images?|snaps?|clips?)",
    "PICNOUN": r"(?:pics?|selfie|nudes?|vids?|videos?|images?|snaps?)",
    "IWILL": r"(?:i will|ill|i can|i could|i would|i want to|let me|i am going to|i shall)",
    "BODY": (
        r"(?:body|boobs|tits|chest|bum|butt|ass|legs|thighs|privates|private parts|"
        r"underwear|bra|knickers|pants off)"
    ),
    "PROBE_ALONE": (
        r"(?:alone|on your own|by yourself|home alone|in your room|in your bedroom|in bed)"
    ),
}

HOMEWORK = (
    r"homework|worksheet|question|answers?|page \d|textbook|notes|poster|flyer|form|timetable|"
    r"letter|menu|receipt|essay|revision|sheet|slides|project|drawing|painting|model|cake|"
    r"dog|cat|puppy|kitten|hamster|rabbit|horse|outfit for the|team|trophy|medal|certificate|"
    r"the (?:view|sunset|beach|match|game|concert|trip|garden|room layout|board)|map|sign|"
    r"ticket|results?|grades?|report|screenshot|score|bruise|rash|cut on|hair|haircut|nails|dress|"
    r"costume|makeup|shoes|trainers|tattoo|piercing|prom"
)
SURPRISE = (
    r"surprise|\bpart(?:y|ys|ies)\b|present for (?:her|him|mum|dad|them|your|my|\w+s birthday)|card for|"
    r"plan for (?:mum|dad|her|him)|spoil (?:it|the)|ruin the|for (?:her|his|mums|dads) birthday"
)
BANTER = r"\b(?:jk|just kidding|joking|lol|haha+|lmao|love you|love ya|xx+|only messing|banter)\b"

RULES: tuple[tuple[str, str, float, str, str, str], ...] = (
    # --- grooming.platform_move ---------------------------------------------------------
    (
        "move.app",
        "grooming.platform_move",
        0.9,
        r"\b(?:add|follow|find|message|text|dm|hmu|hit me up|ping|call|chat to|talk to|speak to|"
        r"write to|reach|contact|catch) (?:me |you |us )?(?:on|via|over|through|at) {APP}\b",
        "",
        "asks to carry on in another app",
    ),
    (
        "move.number",
        "grooming.platform_move",
        0.9,
        r"\b(?:what is|send|give|give me|share|drop|got|can i (?:have|get)|could i (?:have|get)|"
        r"need|text me) (?:me )?(?:your|you) (?:number|digits|phone number|mobile|mobile number|"
        r"snap|insta|whatsapp|handle|username|discord|telegram|kik|email)\b",
        "",
        "asks for the child's number or another app's handle",
    ),
    (
        "move.have_app",
        "grooming.platform_move",
        0.7,
        r"\b(?:do you have|have you got|you got|are you on|you on|got|get|download|install) "
        r"(?:a |an )?(?:{APP}|another app|a different app|a private app|a secret app)\b",
        "",
        "asks whether the child uses another app",
    ),
    (
        "move.private",
        "grooming.platform_move",
        0.9,
        r"\b(?:lets|let us|we should|can we|shall we|better if we|easier (?:if we|to)|we could|"
        r"want to|rather) (?:talk|chat|move|switch|go|continue|speak|message|text) (?:on|to|over "
        r"to|over|in|somewhere|privately|in private)(?: a| an| the)?(?: more)? (?:private|secret|"
        r"different|other|another|safer|{APP})",
        "",
        "suggests moving the chat somewhere more private",
    ),
    (
        "move.elsewhere",
        "grooming.platform_move",
        0.9,
        r"\b(?:this app|this chat|here|this place) (?:is|gets|might be|can be) "
        r"(?:monitored|watched|read|checked|recorded|spied on|not private|not safe)|"
        r"\b(?:talk|chat|message|text) (?:somewhere|someplace) (?:else|more private|safer)\b",
        "",
        "says this app is watched, or gives another app or number",
    ),
    (
        "move.own_handle",
        "grooming.platform_move",
        0.7,
        r"\b(?:my|here is my|heres my|this is my) (?:snap|insta|number|whatsapp|discord|telegram|"
        r"kik|signal)\b(?: is| :)?",
        "",
        "gives the child another app's handle or a number",
    ),
    (
        "move.number_share",
        "grooming.platform_move",
        0.7,
        r"\b(?:text|call|ring|message|whatsapp|facetime) me (?:on|at) \+?\d",
        "",
        "gives a number to move the conversation",
    ),
    # --- grooming.secrecy ---------------------------------------------------------------
    (
        "secret.dont_tell",
        "grooming.secrecy",
        0.9,
        r"\b(?:dont|do not|never|no need to|better not|shouldnt|should not|you must not|mustnt|"
        r"please dont|best not) (?:tell|mention|say (?:anything|owt|it) to|show|let|talk to|say "
        r"anything to) (?:me |this |us |it |anything |about (?:me|us|this|it) )?(?:to )?(?:anyone|anybody|no one|nobody|{YOUR} {FAMILY}|them|people|a soul|the others|"
        r"other people)\b",
        SURPRISE,
        "asks the child not to tell anyone",
    ),
    (
        "secret.between_us",
        "grooming.secrecy",
        0.9,
        r"\b(?:our (?:little )?secret|(?:just |only )?between (?:us|you and me|me and you|the two "
        r"of us|us two)|nobody (?:needs|has|ever needs) to know|no one (?:needs|has|ever needs) to "
        r"know|no one will (?:ever )?know|nobody will (?:ever )?know|(?:keep|kept) (?:this|it|us|"
        r"that|our (?:chats?|talks?|thing|convos?|conversations?|friendship|secret|messages)) "
        r"(?:between us|secret|quiet|private|hidden|to (?:yourself|ourselves)|on the (?:down ?low|"
        r"dl|low))|(?:our|this) (?:thing|friendship|relationship|chat) is (?:private|secret|special "
        r"and private))",
        SURPRISE,
        "makes the contact a secret",
    ),
    (
        "secret.delete",
        "grooming.secrecy",
        0.9,
        r"\b(?:delete|clear|wipe|remove|get rid of) (?:this|the|these|our|my|all|your|all the|all "
        r"our) ?(?:chats?|messages?|texts?|convos?|conversations?|pics|history|dms)?\b.{0,20}"
        r"\b(?:after|so no one|so nobody|before (?:your|anyone|they)|in case|just in case)|"
        r"\b(?:delete|clear) (?:this|it|them|the chat|our chat|the messages) (?:after|once you)",
        "",
        "asks the child to delete the messages",
    ),
    (
        "secret.parents",
        "grooming.secrecy",
        0.7,
        r"\b(?:your )?(?:parents|mum|dad|family|teachers?) (?:would not|wouldnt|will not|dont|do "
        r"not|never|wont|wouldn t|would never) (?:understand|get it|approve|like (?:it|this|us|"
        r"me))",
        SURPRISE,
        "sets the child apart from the adults who protect them",
    ),
    # --- grooming.image_request ---------------------------------------------------------
    (
        "image.of_you",
        "grooming.image_request",
        0.9,
        r"\b(?:send|show|share|give|take|snap|post|dm) (?:me |us )?(?:a |an |some |another |more |"
        r"any |one |few |your |you )?(?:new |quick |cute |nice |proper |private |special |secret )?"
        r"{PICNOUN} (?:of (?:you|yourself|your (?:{BODY}|face|outfit|self))\b|in (?:your|"
        r"you|a|just your) (?:pjs|pyjamas|pajamas|bikini|underwear|uniform|bed|swimsuit|swimming "
        r"costume|towel|bra|shorts)|without|with (?:nothing|less|no)|for me only|just for me|that "
        r"no one|no one else)",
        "",
        "asks for a picture of the child",
    ),
    (
        "image.nudes",
        "grooming.image_request",
        0.9,
        r"\b(?:nudes?|naked (?:pics?|selfie|vids?)|(?:pic|pics|selfie|vid)s? (?:for|just for) me|"
        r"what you look like|see what you look|see you in (?:your|you|just|only|a bikini|a swimsuit|underwear|pjs|pyjamas|bed)|turn on (?:your|you|the) (?:cam|camera|"
        r"webcam)|on (?:cam|camera|webcam) for me|(?:go|get) on (?:cam|camera|video)|show me "
        r"(?:your|you) (?:{BODY}|self|face|outfit|room)|let me see (?:you|your)|prove (?:it|you "
        r"are) with a (?:pic|selfie)|(?:a|one) (?:pic|selfie) (?:of you|back))\b",
        HOMEWORK,
        "asks to see the child",
    ),
    (
        "image.send_pic",
        "grooming.image_request",
        0.7,
        r"\b(?:send|show|share|snap|dm) (?:me |us )?(?:a |an |some |another |more |any |one |few "
        r")?(?:new |quick |cute |nice |proper |private |special )?(?:pic|pics|selfie|vid|video)\b",
        HOMEWORK,
        "asks for a picture",
    ),
    # --- grooming.meeting ---------------------------------------------------------------
    (
        "meet.in_person",
        "grooming.meeting",
        0.9,
        r"\b(?:meet|see|meet up with|hang out with) (?:up )?(?:you |me |each other )?(?:in person|"
        r"irl|in real life|for real|face to face)\b|\b(?:finally|actually|properly) (?:meet|see "
        r"each other|see you in person)\b|\b(?:meet|see you),? just (?:us|us two|the two of us|you "
        r"and me)\b",
        "",
        "proposes meeting in person",
    ),
    (
        "meet.alone",
        "grooming.meeting",
        0.9,
        r"\b(?:meet|see you|come|hang out)(?: up)? (?:me |you |with me )?(?:just )?(?:alone|on your "
        r"own|by yourself|just (?:us|us two|the two of us|you and me|me and you)|in secret|secretly|without (?:telling|your|"
        r"anyone))|\b(?:come|come over|come round|come around|stay|sleep over|stop over) (?:to |at "
        r")?(?:my|mine|me) (?:place|house|flat|apartment|hotel|car|room)\b|\bcome (?:over )?to "
        r"mine\b|\b(?:get in|in) my car\b",
        "",
        "invites the child to meet alone or to the adult's place",
    ),
    (
        "meet.pickup",
        "grooming.meeting",
        0.7,
        r"\b{IWILL} (?:come and )?(?:pick you up|collect you|come to (?:your|you) (?:town|area|"
        r"school|house|street|village|city)|visit you|drive (?:over|to you|down)|wait for you (?:at|"
        r"outside|after))|\b(?:which|what) (?:station|bus stop|park|shop|shopping centre) is "
        r"(?:near|closest to|by) (?:you|your)|\bwhen can (?:we|i) (?:meet|see you)\b|\b(?:i will|ill|i "
        r"am|i will be) (?:be )?(?:in|near|around) (?:your|you) (?:area|town|city|village|way)\b",
        "",
        "offers to come to the child",
    ),
    # --- grooming.gifts -----------------------------------------------------------------
    (
        "gift.offer",
        "grooming.gifts",
        0.9,
        r"\b{IWILL} (?:buy|get|send|give|pay|top up|transfer|gift|order) (?:you|your|for you) "
        r"(?:a |an |some |the |any |new )?(?:money|cash|robux|vbucks|v bucks|gift ?cards?|"
        r"vouchers?|credit|top ?up|skins?|battle ?pass|anything|whatever you want|present|gift|"
        r"(?:new )?phone|phone credit|"
        r"\S*£\s?\d+|\d+ ?(?:quid|pounds|robux|vbucks))",
        "",
        "offers the child money or gifts",
    ),
    (
        "gift.currency",
        "grooming.gifts",
        0.7,
        r"\b(?:free |some |want |need |more )(?:robux|vbucks|v bucks|gift ?cards?|skins|credit|"
        r"top ?up)\b|\b(?:robux|vbucks|v bucks|gift ?card|paypal|bank details|amazon voucher|steam "
        r"card)\b.{0,30}\b(?:for you|if you|i can send|ill send|i will send)\b",
        "",
        "dangles gaming currency or gift cards",
    ),
    (
        "gift.if_you",
        "grooming.gifts",
        0.9,
        r"(?:£|\$)\s?\d+ (?:if|for|when) you|\b(?:i will|ill|i can) (?:pay|give) you .{0,20}"
        r"\bif you\b|\bin (?:return|exchange)\b|\bspoil you\b|\btreat you like a princess\b|"
        r"\b(?:anything|whatever) you want\b.{0,20}\b(?:buy|get|pay)\b|\b(?:i will|ill|i can|i "
        r"could|let me) (?:pay for|cover|buy) (?:your|you) (?:battle ?pass|phone|skins?|top ?up|"
        r"credit|subscription|nitro|game)",
        SURPRISE,
        "ties a gift to something in return",
    ),
    # --- grooming.personal_probe --------------------------------------------------------
    (
        "probe.age",
        "grooming.personal_probe",
        0.7,
        r"\b(?:how old (?:are|is) (?:you|your)|what age (?:are )?you|what is your age|asl|a s l|"
        r"what year (?:are you in|of school)|which year are you in|are you (?:in )?year \d+|are you "
        r"(?:still )?(?:at|in) (?:primary|secondary)|how young are you)\b",
        "",
        "asks the child's age",
    ),
    (
        "probe.where",
        "grooming.personal_probe",
        0.7,
        r"\b(?:where do you (?:live|go to school|stay)|where (?:are|abouts are|in \w+ are) you "
        r"(?:from|based)|what (?:area|town|city|street|road|part of town|school) (?:do you|are you|"
        r"you) (?:live|in|from|go to|at)|which school (?:do|are) you|what school (?:do you go to|you "
        r"go to|are you at)|(?:send|give|tell|what is) (?:me )?(?:your|you) (?:address|postcode|post "
        r"code|location|school|street)|share (?:your|you) location|where is your (?:school|house))",
        "",
        "asks where the child lives or goes to school",
    ),
    (
        "probe.alone",
        "grooming.personal_probe",
        0.9,
        r"\b(?:are you|you) (?:home )?{PROBE_ALONE}\b|\b(?:is|are) (?:anyone|anybody|your parents|"
        r"your mum|your dad|mum|dad|your family|your mum and dad|mum and dad|your folks)(?: else)? "
        r"(?:home|in|around|there|about|awake|with you|watching|out)\b|\b(?:when|what time) (?:do|does|will) (?:your|you) (?:parents|mum|dad|family) "
        r"(?:get home|go out|leave|go to (?:bed|sleep)|go to work|come back)\b|\b(?:do|does) (?:your|"
        r"you) (?:parents|mum|dad|family) (?:check|read|go through|look at|see|monitor) (?:your|you) "
        r"(?:phone|messages|chats|texts|screen)",
        "",
        "asks whether the child is alone or watched",
    ),
    (
        "probe.relationships",
        "grooming.personal_probe",
        0.55,
        r"\bdo you have a (?:boyfriend|girlfriend)\b|\bhave you (?:ever )?(?:had a (?:boyfriend|"
        r"girlfriend)|been kissed)\b|\bare you single\b",
        "",
        "asks about the child's relationships",
    ),
    # --- grooming.sexual ----------------------------------------------------------------
    (
        "sexual.explicit",
        "grooming.sexual",
        0.9,
        r"\b(?:sex|sexy|sexual|naked|nude|horny|boobs|tits|dick|cock|penis|vagina|pussy|"
        r"masturbat\w*|wank\w*|orgasm|porn|blowjob|virgin|sexting|cum|fuck me|turned on|turns? me "
        r"on|make you "
        r"feel good|make me feel (?:good|hot|horny)|touch (?:yourself|you there|me there|your (?:body|self))|(?:take|taking) "
        r"(?:it|that|them|your (?:top|clothes|shirt|bra|pants)) off|what (?:are|r) you wearing|"
        r"in (?:your )?underwear|kiss (?:you|me) all over|hot body|lick|do stuff to|"
        r"have you ever done it|done it before|play with yourself)\b",
        "",
        "sexual language",
    ),
    # --- grooming.flattery --------------------------------------------------------------
    (
        "flatter.looks",
        "grooming.flattery",
        0.7,
        r"\b(?:you are|you look|you re|your) (?:so |really |very |such a |soo |proper |well )?"
        r"(?:pretty|beautiful|gorgeous|cute|hot|fit|stunning|sexy|perfect|amazing looking|a "
        r"stunner|lovely looking)\b",
        r"dress|prom|costume|haircut|uniform|photo day|wedding|performance|\bsis\b|\bbro\b|\bcuz\b|little "
        r"(?:sister|brother)",
        "compliments looks",
    ),
    (
        "flatter.mature",
        "grooming.flattery",
        0.9,
        r"\b(?:(?:so|very|really|proper) mature(?: for (?:your|you) age)?|mature for (?:your|you) "
        r"age|older than (?:your|you) age|not like (?:other|the other) (?:girls|boys|kids|people "
        r"your age)|(?:i have|i) never met anyone like you|you (?:understand|get) me (?:better|like "
        r"no)|(?:nobody|no one) (?:understands|gets|loves|cares about|appreciates) you like (?:i "
        r"do|me)|i (?:understand|get) you (?:better|more) than|only i (?:understand|get|care)|"
        r"(?:you are|your) (?:my )?(?:special|favourite) (?:girl|boy|one|friend)|special "
        r"(?:friend|connection|bond|relationship)|we have a (?:special|real|deep) (?:connection|"
        r"bond)|soulmate|i (?:would|will) (?:treat|look after) you better|(?:your|you) (?:parents|"
        r"mum|dad|friends|family) (?:dont|do not|never|doesnt|does not|dont really|do not "
        r"really|doesnt really) (?:understand|get|appreciate|deserve|listen to|care about) you|"
        r"(?:smarter|older|wiser|more mature|cleverer|cooler|prettier) than (?:other |the other |"
        r"most )?(?:kids|girls|boys|people) (?:your|you) age|i am (?:falling|in love) (?:for|with) you|you can (?:trust|tell) me "
        r"anything|you can always talk to me,? not them|i am the only one who)\b",
        SURPRISE,
        "builds a special, exclusive relationship",
    ),
    (
        "flatter.love",
        "grooming.flattery",
        0.55,
        r"\b(?:i (?:really )?(?:like|love|miss|adore) you (?:so much|loads|a lot)|i think about you "
        r"(?:all the time|every day|constantly)|you are (?:so |really )?(?:special|mature|smart|"
        r"talented|clever) (?:to me|for)|you deserve (?:better|someone who))\b",
        "",
        "intense affection",
    ),
    # --- self_harm ----------------------------------------------------------------------
    (
        "harm.suicide",
        "self_harm",
        0.9,
        r"\b(?:kill (?:myself|meself|my self|herself|himself|themselves)|(?:end|ending) (?:it all|my life|"
        r"things|everything|it tonight)|(?:want|wanted|going|want) to die|wish i (?:was|were) "
        r"(?:dead|gone|never born)|(?:dont|do not) want to (?:be here|live|exist|wake up|be "
        r"alive)|(?:better|easier) off (?:dead|without me)|suicid\w*|(?:everyone|they|everybody|"
        r"you all|my family) (?:would|will|d) be (?:better|happier) (?:off )?without me|no (?:point|"
        r"reason) (?:in )?(?:living|being alive|being here|going on|to live|to go on|anymore)|"
        r"not (?:be )?(?:around|here) (?:much longer|for long|anymore)|(?:my )?last (?:goodbye|"
        r"message ever)|goodbye forever|(?:wrote|writing|written|left) (?:a |my )?(?:goodbye|suicide) "
        r"(?:note|letter|message)|what is the point (?:in|of) (?:living|life|being alive|going on|"
        r"me|anything anymore)|disappear (?:forever|for good)|(?:going|want) to jump "
        r"(?:off|in front)|(?:wrote|writing) (?:a|my) (?:note|goodbye letter))\b",
        r"of (?:laughter|embarrassment|boredom|cringe)|laughing|\bgame\b|\blevel\b|\bboss\b|\b(?:exam|test|"
        r"homework|lesson|maths|revision|quiz|embarrass\w*|cringe|bored|boring|film|movie|book|episode|"
        r"period|cramps|worst)\b",
        "talks of suicide or not wanting to live",
    ),
    (
        "harm.self_harm",
        "self_harm",
        0.9,
        r"\b(?:(?:cut|cutting|hurt|hurting|harm|harming|burn|burning|scratch|scratching|punish|"
        r"punishing|starve|starving) (?:myself|meself|herself|himself|themselves|my (?:arms?|"
        r"wrists?|legs?|thighs?|self|skin|stomach))|self ?harm\w*|(?:take|took|taking|swallow|"
        r"swallowed) (?:all )?(?:my |the |a lot of |loads of |a load of )?(?:pills|tablets|"
        r"paracetamol)|overdos\w*|od ?ed|(?:the )?(?:blade|razor)s? (?:again|helps|is the only)|"
        r"cuts? (?:again|on my|are|wont)|relapsed)\b",
        "",
        "talks of self-harm",
    ),
    (
        "harm.despair",
        "self_harm",
        0.7,
        r"\b(?:can not (?:go on|do this anymore|take (?:it|this) anymore|cope anymore|keep going)|"
        r"(?:i am|i feel) (?:such a |a |like a )?(?:burden|worthless to everyone)|i hate myself so "
        r"much|nothing matters anymore|no one would (?:miss|notice) (?:me|if i was gone)|(?:i|i "
        r"just) (?:want|need) (?:it|everything|the pain) to (?:stop|end)|i give up on everything)\b",
        "",
        "hopelessness that can come before self-harm",
    ),
    # --- bullying -----------------------------------------------------------------------
    (
        "bully.insult",
        "bullying",
        0.9,
        r"\b(?:you are (?:a|an|such a|literally a|actually a|an absolute|a total)|you re (?:a|an|"
        r"such a)|what a|you|you absolute|you fucking|you little|you fat|you ugly) "
        r"(?:fat |ugly |disgusting |little |massive |total |fucking )?(?:loser|freak|weirdo|"
        r"retard|mong|minger|slag|slut|whore|skank|bitch|dickhead|twat|cunt|knobhead|waste of "
        r"space|nobody|failure|creep|psycho|fatty|pig|cow|scum|tramp|inbred|neek|reject|"
        r"embarrassment)\b|\b(?:you are|your|you re|you look|you are so|you are such an?) (?:so |"
        r"literally |actually |proper |really |fucking |fkn |well )?(?:ugly|fat|pathetic|"
        r"worthless|disgusting|gross|retarded|rank|minging|a waste of space)\b",
        BANTER + r"|\b(?:dog|cat|pet|food|dinner|room|shoes|drawing|homework|hair)\b",
        "insults someone",
    ),
    (
        "bully.mild",
        "bullying",
        0.7,
        r"\b(?:you are|your|you|you re) (?:a |an |such a |so |literally |actually |proper |"
        r"massive |total )?(?:idiot|stupid|dumb|thick|moron|useless|brainless|braindead)\b",
        BANTER + r"|\bthat was\b|\bme\b",
        "belittles someone",
    ),
    (
        "bully.friction",
        "bullying",
        0.45,
        r"\b(?:you are|your|you|you re) (?:a |an |such a |so |literally |actually |proper |"
        r"massive |total )?(?:joke|clown|annoying|smelly|stinky|weird|cringe|embarrassing)\b",
        BANTER,
        "friction that counts only with more",
    ),
    (
        "bully.exclusion",
        "bullying",
        0.9,
        r"\b(?:(?:nobody|no one|noone) (?:likes|wants|cares about|will miss|would miss|wants to "
        r"(?:sit|be|hang) with) you|everyone (?:hates|laughs at|is laughing at|thinks you are) you?|"
        r"(?:you are|you re|your) not (?:invited|welcome|wanted|one of us|our friend)|(?:leave|get "
        r"out of|get lost from) (?:the|our|this) (?:group|chat|table|team)|(?:nobody|no one) wants "
        r"you (?:here|around)|(?:we are|we) (?:all )?(?:ignoring|blocking) you|do not (?:even )?"
        r"(?:talk|speak) to (?:us|me) again|(?:go|just) (?:die|away and die)|die in a (?:hole|"
        r"fire|ditch)|neck yourself|kys|kill yourself|go (?:kill|hang) yourself|(?:you should|just) "
        r"(?:end|kill) yourself)\b",
        "",
        "excludes, or tells someone to die",
    ),
    (
        "bully.threat",
        "bullying",
        0.9,
        r"\b(?:i will|ill|we will|well|going to|i am going to|we are going to|gonna|watch me) "
        r"(?:beat|batter|smash|punch|hit|kick|jump|stab|hurt|deck|slap|knock) (?:you|your face|"
        r"your head|your teeth)(?: up| in| out| after school| tomorrow)?\b|\bwatch (?:your|you) "
        r"back\b|\b(?:you are|you re|your) dead (?:meat|tomorrow|after school|monday)\b|\b(?:dont|"
        r"do not|never) (?:come|show (?:your|you) face) (?:to|at|back|near)\b",
        r"\b(?:fortnite|minecraft|roblox|game|match|round|level|fifa|cod)\b|at (?:chess|fifa)|\bi "
        r"(?:want|wish|need|just want) to\b|run away",
        "threatens someone",
    ),
    (
        "bully.exposure",
        "bullying",
        0.9,
        r"\b(?:(?:we are|we|i am|i|gonna|going to|will) (?:going to |gonna )?(?:post|share|send|"
        r"spread|show|leak|put) (?:this|that|it|your|the|those|them) ?(?:pics?|pic|video|vid|"
        r"screenshots?|messages?)?\b.{0,30}\b(?:everyone|the whole school|whole year|the group|"
        r"online|the internet|every1)|(?:everyone|the whole school|everybody|whole year) (?:is "
        r"going to|will|gonna|is gonna|has) (?:see|seen|know|laugh)|(?:made|making) a (?:group|"
        r"page|account) (?:about|for laughing at|to laugh at) you)\b",
        r"\b(?:part(?:y|ys|ies)|match|concert|show|surprise|result|trophy|award|performance)\b",
        "threatens to spread something to humiliate",
    ),
    # --- broader phrase families (a second pass, written from how other people put it) --
    (
        "move.this_to",
        "grooming.platform_move",
        0.9,
        r"\b(?:move|switch|take|continue|carry on|chat|talk)(?: this| it| the chat| our chat| this chat| the conversation| us)? (?:to|over to|onto) {APP}\b",
        "",
        "asks to move the chat to another app",
    ),
    (
        "move.go_private",
        "grooming.platform_move",
        0.9,
        r"\b(?:lets|let us|we should|can we|shall we|we could) (?:go|talk|chat|keep (?:it|this)|continue) (?:private|privately|in private|somewhere (?:else|private|quieter|safer))\b|\blets (?:use|try|go on|go to|switch to) (?:something|somewhere|another|a different|a better|a more private|a safer)\b",
        "",
        "suggests going somewhere private",
    ),
    (
        "move.other_account",
        "grooming.platform_move",
        0.7,
        r"\b(?:on|to|at) my (?:other|second|private|secret|spare|personal) (?:account|number|phone|profile|app)\b|\b{IWILL} (?:send|give|text|dm|message) you my (?:number|snap|insta|whatsapp|details|username|handle|other account)\b",
        "",
        "offers a private channel",
    ),
    (
        "move.call",
        "grooming.platform_move",
        0.7,
        r"\b(?:can|could|shall) i (?:call|ring|facetime|video call|phone) you\b|\b(?:do you use|you use|are you on|do you have|have you got) (?:a |an )?{APP}\b",
        "",
        "asks to call, or about another app",
    ),
    (
        "secret.delete_this",
        "grooming.secrecy",
        0.7,
        r"\b(?:delete|wipe|clear|unsend) (?:this|these|that|them|it|the chat|our chat|the messages|our messages|this chat|the convo|everything|my messages)\b",
        r"\b(?:pic of me|photo of me|typo|wrong chat|by accident|accidentally|mistake)\b",
        "asks for messages to be deleted",
    ),
    (
        "secret.if_asked",
        "grooming.secrecy",
        0.9,
        r"\bif (?:anyone|anybody|someone|your (?:mum|dad|parents|teacher|family)|they) asks?,? (?:just )?(?:say|tell (?:them|her|him)|pretend)\b|\b(?:say|tell them) (?:i am|im) (?:a friend|your friend|someone) from (?:school|the club|football)\b",
        "",
        "gives the child a cover story",
    ),
    (
        "secret.cant_tell",
        "grooming.secrecy",
        0.9,
        r"\byou (?:can not|must not|mustnt|should not|shouldnt|better not|are not allowed to|can never) (?:tell|say|mention|show)\b|\bpromise (?:me )?(?:you will not|you will never|not to|you never) (?:tell|say|show|mention)\b|\b(?:you will|you would|you could) (?:get|be) (?:in|into) (?:trouble|big trouble)\b|\b(?:get|gets) (?:us|me|you) (?:both )?in(?:to)? trouble\b",
        SURPRISE,
        "tells the child they must not tell",
    ),
    (
        "secret.hide_from",
        "grooming.secrecy",
        0.9,
        r"\bso (?:your|you) (?:mum|dad|parents|family|teachers?|carers?|brother|sister) (?:does not|doesnt|do not|dont|will not|can not|never) (?:see|find out|know|notice|read|check)\b|\b(?:your|you) (?:mum|dad|parents|family|friends|teachers?) (?:do not|dont|doesnt|does not|must not|should not|never) (?:need to |have to )?(?:know|find out)\b|\b(?:better|best|safer|easier) if (?:no one|nobody|they|your (?:mum|dad|parents|family)) (?:knows|know|finds out|find out|does not know|dont know|doesnt know)\b|\b(?:hide|turn off|mute|lock|hide away) (?:the |your |this |our )?(?:notifications|chat|app|messages|conversation)\b",
        SURPRISE,
        "hides the contact from the child's adults",
    ),
    (
        "secret.nobody_else",
        "grooming.secrecy",
        0.9,
        r"\b(?:nobody|no one)(?: else)? (?:needs|has|ever needs|has got|should) to (?:know|find out)\b",
        SURPRISE,
        "says nobody may know",
    ),
    (
        "image.look_like",
        "grooming.image_request",
        0.9,
        r"\bwhat (?:do |does )?(?:you|your (?:face|body)) look like\b|\bshow me (?:what|how) you (?:look|are wearing|look like)\b|\bshow me (?:you|yourself)\b|\b(?:mirror|bathroom|bedroom) (?:pic|pics|selfie)\b|\b(?:take|snap) (?:a |some |another )?(?:pic|pics|selfie|vid)\b.{0,30}\bfor me\b",
        HOMEWORK,
        "asks to see how the child looks",
    ),
    (
        "image.want_see",
        "grooming.image_request",
        0.7,
        r"\b(?:(?:can|could) i see (?:your|a pic|a picture|more of you|what you)|(?:i want|i would love|i "
        r"need|let me|i am dying|i really want) (?:to )?see (?:you|your|a pic|a picture|more of you))\b(?! (?:at|in|on|tomorrow|soon|later|next|there))|\b(?:got|have you got|do you have) (?:any |some )?(?:pics|selfies|pics of you)\b|\b(?:video ?call|facetime|cam|webcam) (?:me|with me)\b|\b(?:go|get|come|hop|jump) on (?:cam|camera|webcam|video|facetime)\b",
        HOMEWORK + r"|hair|nails|dress|costume|trip|holiday|part(?:y|ys|ies)|grandma|nan",
        "asks to see the child",
    ),
    (
        "image.more",
        "grooming.image_request",
        0.7,
        r"\b(?:send|show|share|snap|dm) (?:me |us )?(?:(?:a|an|some|another|more|any|one|few|a few|other|couple of|a couple of|new|quick|cute|nice|proper|private|special|real|better|recent)\s){1,3}(?:pic|pics|selfie|vid|video|snaps)\b",
        HOMEWORK + r"|hair|nails|dress|costume|trip|holiday|party",
        "asks for more pictures",
    ),
    (
        "meet.generic",
        "grooming.meeting",
        0.55,
        r"\b(?:we should|lets|let us|can we|could we|i want to|i would love to|i would like to|want to|we could|we must) (?:meet|meet up|see each other|meet you)\b|\bi want to meet you\b",
        "",
        "proposes meeting",
    ),
    (
        "meet.come_see",
        "grooming.meeting",
        0.7,
        r"\b(?:i will|ill|i can|i could|i would|i am going to|i want to) (?:come and |come to |come over "
        r"and )(?:see|visit|meet) you\b|\b(?:i will|ill|i can|i could|i am going to) (?:visit|meet) you\b|\bwhere (?:is |s )?(?:a good place|somewhere|good|best) to meet\b|\bmeet (?:near|close to|by) (?:you|your)\b|\b(?:come|pop|go) (?:round|over|around) (?:to )?(?:yours|your (?:house|place|flat))\b",
        "",
        "offers to come and meet",
    ),
    (
        "meet.sneak",
        "grooming.meeting",
        0.9,
        r"\b(?:dont|do not) bring (?:anyone|anybody|your (?:friends|mates|mum|dad|sister|brother))\b|\bcome (?:on your own|alone|by yourself)\b|\bsneak (?:out|off|away)\b|\b(?:get|slip) out (?:of the house )?without\b|\bwithout (?:your|you) (?:parents|mum|dad|family) (?:knowing|finding out|noticing|seeing)\b",
        "",
        "asks the child to come alone or sneak out",
    ),
    (
        "gift.broad",
        "grooming.gifts",
        0.7,
        r"\b{IWILL} (?:buy|get|send|pay for|order|treat) (?:you|your) (?:something|anything|stuff|things|a present|presents|a treat|food|clothes|makeup|nails|trainers|a new \w+|some new \w+)\b|\b(?:want|need|fancy|would you like) (?:a |some )?(?:new phone|money|cash|robux|vbucks|v bucks|gift ?cards?|credit|top ?up|skins)\b|\bi (?:have |ve )?(?:bought|got|ordered|sent) you (?:a |some )?(?:present|gift|something|surprise|money|new)\b",
        "",
        "offers the child things",
    ),
    (
        "probe.home",
        "grooming.personal_probe",
        0.7,
        r"\bdo you have (?:your own|a) (?:room|bedroom|phone|laptop)\b|\bwhat time (?:do|does|will) you (?:go to (?:bed|sleep)|get home|finish school|leave school|get out of school|go out|get up)\b|\bwhat is (?:your|you) (?:real|full|last|second) name\b|\bwhat is your surname\b|\bwho (?:do you live with|is at home|else is (?:home|there|in))\b|\bwhere(?: abouts| exactly| about)? (?:do|d) you (?:live|stay|go to school)\b|\bwhen (?:are|is|will) (?:your|you) (?:parents|mum|dad|family|mum and dad) (?:out|away|at work|not home|asleep|going out)\b",
        "",
        "asks about the child's home and routine",
    ),
    (
        "sexual.broad",
        "grooming.sexual",
        0.7,
        r"\bhave you (?:ever )?(?:kissed|snogged|touched|been touched|had sex|done anything|gone all the way|fooled around)\b|\b(?:i want to|i would love to|let me|i would like to|i could) (?:touch|kiss|feel) you\b|\b(?:naughty|dirty|kinky|spicy|freaky|nsfw|x rated)\b|\btake (?:something|something else|more|one more thing) off\b|\b(?:your|you) (?:body|lips|legs)\b.{0,20}\b(?:sexy|hot|perfect|amazing)\b",
        r"\b(?:dog|cat|puppy|pet|food|cake|joke|laundry|washing|dishes|football kit|boots)\b",
        "sexualised talk",
    ),
    (
        "flatter.broad",
        "grooming.flattery",
        0.9,
        r"\b(?:not like|different (?:from|to|than)) (?:other|the other|most|all the other) (?:girls|boys|kids|people)\b|\bi (?:care about|love|like) you more than (?:anyone|anything|anybody|they do|your)\b|\b(?:nobody|no one) (?:gets|understands|knows) me like you(?: do)?\b|\bsoul ?mates?\b|\bnever felt (?:this|like this|so) (?:way )?about (?:anyone|anybody|someone)\b|\bi (?:think i )?(?:am|might be) in love with you\b",
        SURPRISE,
        "builds an exclusive bond",
    ),
    (
        "flatter.soft",
        "grooming.flattery",
        0.55,
        r"\bi (?:really )?(?:like|love|enjoy) (?:talking|chatting|speaking) (?:to|with) you\b|\bi (?:feel like i )?can (?:really )?talk to you\b|\b(?:favourite|favorite) person to (?:talk|chat)\b|\byou are (?:so |really |very )?special\b|\b(?:so|really|very) grown up\b|\bgrown up for (?:your|you) age\b",
        "",
        "warmth that builds trust",
    ),
    (
        "harm.more",
        "self_harm",
        0.9,
        r"\bi (?:have been|keep|started|start|am|was|have started) (?:cutting(?! (?:out|up|paper|the|my hair|hair|shapes|it|them|down|back))|self harming|hurting myself|burning myself|starving myself)\b|\b(?:feel like|thinking (?:of|about)|going to|want to|i will|i am going to) (?:ending it|end it)\b(?! (?:with|off))|\b(?:nobody|no one|noone) (?:would|will) (?:care|notice|miss me|even notice|even care) (?:if|when) i (?:died|was gone|was dead|disappeared|killed myself|wasnt here|was not here)\b|\b(?:killing|killed) (?:myself|meself)\b|\b(?:done|finished) with (?:life|living|it all|being alive)\b|\b(?:sick|tired) of (?:living|being alive)\b|\b(?:pills|tablets|paracetamol)\b.{0,30}\b(?:saved|stashed|hidden|collecting|ready)\b|\b(?:saving|stashing|collecting) (?:up )?(?:pills|tablets)\b|\b(?:do not|dont|can not) see the point (?:anymore|in anything|of anything|in living|of living|in life|of life)\b|\bnot (?:going to )?be (?:around|here) (?:much longer|for long|anymore|tomorrow)\b",
        r"\b(?:relationship|boyfriend|girlfriend|with him|with her|game|level|homework)\b",
        "talks of ending their life or harming themselves",
    ),
    (
        "harm.disappear",
        "self_harm",
        0.7,
        r"\bi (?:just )?(?:want|wish i could|need) to disappear\b|\bif i (?:died|was dead|were dead|was gone|disappeared|killed myself)\b|\bi (?:do not|dont) want to (?:do this|be me|carry on) anymore\b",
        r"\b(?:lol|haha|lmao|embarrass|cringe)\b",
        "wishes to disappear",
    ),
    (
        "bully.more",
        "bullying",
        0.9,
        r"\b(?:we are|we|were|everyone is|everybody is|they are|people are|the whole class is) (?:all )?(?:laughing|taking the piss|making fun) (?:at|of) you\b|\b(?:nobody|no one) (?:will|would|could) (?:ever )?(?:love|like|want|date|miss) you\b|\b(?:i will|ill|we will|going to|gonna|i am going to|we are going to) (?:tell|show|send|post|share|put) (?:everyone|everybody|the whole (?:school|year|class)|the group|it online)\b|\b(?:going to|gonna|will|ill) (?:post|share|leak|spread|send round|screenshot) (?:your|that|those|the) (?:pic|pics|photo|photos|video|vid|nudes|messages|texts|screenshots?|secret)\b|\byour (?:a|an|such a) (?:fat |ugly |little |massive )?(?:loser|freak|weirdo|cow|pig|slag|slut|bitch|idiot|joke|nobody|failure|creep|loner)\b",
        r"\b(?:part(?:y|ys|ies)|match|concert|show|surprise|result|trophy|award|performance|news|plan|answers|homework|lol|haha|jk)\b",
        "humiliates or threatens to expose",
    ),
    (
        "bully.smell",
        "bullying",
        0.7,
        r"\byou (?:smell|stink|reek)\b|\b(?:go away|get lost|piss off|shut up),? (?:nobody|no one) (?:wants|likes|asked)\b",
        BANTER,
        "demeans someone",
    ),
    # --- a third pass: looser word-order families, misspellings and slang ------------
    (
        "move.loose",
        "grooming.platform_move",
        0.9,
        r"\b(?:chat|talk|speak|message|msg|text|dm|continue|go|move|switch|be|get) (?:\w+ ){0,2}(?:on|over|via|through|to|onto) {APP}\b|\b(?:your|you) (?:{APP}|dms)\b(?! (?:streak|story|stories|filter|post|video|account got))|\b{APP} me\b(?! (?:a|an|the|some|your|you|pic|pics|one|back|it))|\b(?:take|move|keep) (?:this|it|us) (?:to|in) (?:dms|private|pm)\b",
        "",
        "asks to move to another app",
    ),
    (
        "move.phone",
        "grooming.platform_move",
        0.7,
        r"\b(?:call|ring|phone|facetime) me\b|\b(?:talk|chat|speak) on the phone\b|\bmy (?:number|numbers|mobile|phone number|digits)(?: is)?\b",
        r"\b(?:changed|new number|group chat|the club|the office|reception)\b",
        "offers a phone call or number",
    ),
    (
        "secret.loose",
        "grooming.secrecy",
        0.7,
        r"\b(?:dont|do not|never|can not|must not|mustnt|shouldnt|should not|will not|no one can|nobody can|no one should|nobody should|nobody must)\b (?:\w+ ){0,3}(?:tell|say|know|see|find out|mention|show|hear)\b (?:\w+ ){0,4}(?:anyone|anybody|parents|mum|dad|family|friends|teachers?|this|these|about (?:us|me|this|it)|her|him|them)\b|\bno one can know\b|\b(?:try to|would|will|want to|going to) (?:stop|split) us\b|\bkeep us apart\b|\bif (?:she|he|they|your (?:mum|dad|parents|family)) (?:knew|found out|saw|finds out|find out|sees)\b",
        SURPRISE,
        "keeps the contact hidden",
    ),
    (
        "image.loose",
        "grooming.image_request",
        0.9,
        r"\b(?:full body|body|bikini|underwear|shower|bath|bed|naked|topless) (?:pic|pics|selfie|photo|vid|shot)s?\b|\b{PICNOUN} (?:of you )?in (?:your|you|a|just your) (?:\w+ )?(?:uniform|pjs|pyjamas|pajamas|bikini|underwear|swimsuit|bed|towel|bra|shorts|skirt)\b|\b(?:camera|cam|webcam) on\b|\b(?:switch|turn|put) (?:on )?(?:your|you|the) (?:camera|cam|webcam)\b|\bsee what you(?: are)? wearing\b|\b(?:got|have you got|do you have) (?:any |some )?more (?:pics|selfies|photos)\b",
        HOMEWORK,
        "asks for revealing pictures or the camera",
    ),
    (
        "image.vague",
        "grooming.image_request",
        0.55,
        r"\b(?:send|show) me (?:something|more|some more|another one|one more)\b",
        HOMEWORK + r"|\blink\b|\bvideo of the\b",
        "vague request for more",
    ),
    (
        "meet.loose",
        "grooming.meeting",
        0.7,
        r"\bmeet me\b|\bcome (?:and )?(?:see|get|meet) (?:me|you)\b|\bcome get you\b|\b(?:meeting|meet up|meet) (?:this|next|on|tomorrow|tonight|after school|saturday|sunday|friday|at the weekend|this weekend)\b|\b(?:mins?|minutes|miles) away\b.{0,30}\b(?:come|meet|pick|get)\b",
        r"\b(?:club|session|trip|match|practice|rehearsal|training|class|lesson|school gate|parents|mum|dad)\b",
        "arranges to meet",
    ),
    (
        "gift.loose",
        "grooming.gifts",
        0.7,
        r"\b{IWILL} (?:buy|get|send|order|gift) (?:you) (?!my\b|a message|a text|the link|the details|the "
        r"address|a pic|a photo|the pics)(?:an? |some |those |the |a new |a little |all the )?\w+|\b(?:do you |would you |you )?(?:want|like|fancy) (?:a|an|some) (?:new )?(?:ipad|iphone|phone|xbox|ps5|playstation|switch|laptop|money|cash|robux|vbucks|airpods|trainers)\b|\bi (?:have |ve )?(?:got|bought) you (?:a |some )?(?:little |small |special )?(?:something|present|gift|treat)\b",
        r"\b(?:water|a drink|a coffee|a glass|the link|the answers|the homework|a tissue|a plaster)\b",
        "offers the child things",
    ),
    (
        "probe.loose",
        "grooming.personal_probe",
        0.7,
        r"\b(?:are )?you (?:at|in) (?:school|primary|secondary|college|year \d+)\b|\bwhich year (?:are you|you in)\b|\bwhere (?:are )?you from\b|\bwhat (?:street|road|town|area|city|estate) (?:are you|do you live|you live)\b|\bwho is (?:in|at) (?:your|you) (?:house|home|room|flat)\b|\bwhat school (?:you|do you) go\b|\b(?:do you have|have you got|you got|got) a (?:boyfriend|girlfriend)\b|\b(?:your|you) (?:parents|mum|dad) (?:work|working) (?:late|nights|away)\b|\ballowed (?:out|to go out)\b.{0,20}\b(?:on your own|alone|by yourself)\b|\bhow old (?:r|are) you\b",
        "",
        "asks about the child's age, school, home",
    ),
    (
        "sexual.loose",
        "grooming.sexual",
        0.9,
        r"\b(?:lingerie|willy|boner|nipples?|thong|sext\w*|hard for you|i am hard|naked)\b|\b(?:done|do|did) stuff with (?:boys|girls|anyone|someone|me|you)\b|\bcolou?r (?:is )?(?:your|you) (?:underwear|bra|knickers|pants)\b|\b(?:touched|touching|played with) (?:yourself|myself)\b|\bsleep naked\b",
        "",
        "sexual talk",
    ),
    (
        "flatter.loose",
        "grooming.flattery",
        0.9,
        r"\bmore mature than\b|\b(?:you are|your) the only one (?:who|that) (?:gets|understands|cares|listens)\b|\bonly (?:you|one who) (?:understand|get)s? me\b|\b(?:nobody|no one) (?:understands|gets|loves|cares about|appreciates|knows) you like (?:i do|me)\b|\byou could be a model\b|\bmodel material\b|\bnever (?:clicked|connected|felt this way) with\b|\b(?:wasted on|too good for|too mature for) (?:boys|girls|kids|people)\b",
        SURPRISE,
        "builds a special bond",
    ),
    (
        "flatter.loose_soft",
        "grooming.flattery",
        0.7,
        r"\bi (?:really |totally )?(?:get|understand) you\b|\byou are (?:so |really |very |honestly |seriously )?(?:amazing|incredible|lovely|perfect|special|beautiful|gorgeous|pretty|stunning)\b",
        r"\b(?:dress|prom|costume|haircut|performance|match|game|goal|show|play|concert|test|result|drawing|well done)\b",
        "compliments the child",
    ),
    (
        "harm.loose",
        "self_harm",
        0.9,
        r"\bkms\b|\b(?:stop|keep|started|been|am|was|can not stop) cutting\b(?! (?:paper|hair|the|out|class|it|cards|shapes|vegetables))|\btook (?:too many|loads of|all (?:my|the)|a bunch of|a handful of) (?:pills|tablets)\b|\b(?:nobody|no one) (?:would|will|is going to) (?:miss|notice|care about) me\b|\b(?:not|stop) (?:exist|existing)\b|\b(?:i will|i am going to|i am gonna|the night i|going to|i want to) end it\b(?! (?:with|off))|\bthought about (?:killing myself|ending it|suicide|dying)\b",
        r"\b(?:relationship|boyfriend|girlfriend|with him|with her|game|level)\b",
        "talks of ending their life or self-harm",
    ),
    (
        "harm.loose_soft",
        "self_harm",
        0.7,
        r"\bno way out\b|\bdo something (?:to myself|stupid to myself)\b|\bi am scared (?:of what )?i (?:will|might) (?:do|hurt)\b",
        r"\b(?:escape room|maze|game|level)\b",
        "hopelessness",
    ),
    (
        "harm.sleep",
        "self_harm",
        0.9,
        r"\bsleep forever\b|\bnever wake up\b|\bnot wake up\b",
        r"\b(?:tired|lol|haha|lmao|exhausted|nap|knackered|sleepy|bed)\b",
        "wishes not to wake",
    ),
    (
        "bully.loose",
        "bullying",
        0.9,
        r"\bget you (?:after school|tomorrow|later|back|for this|at break|at lunch)\b|\b(?:you will|you are going to|you re going to) regret (?:this|it|that)\b|\bgo (?:cry|crying|and cry) (?:to|home)\b|\bcry ?baby\b|\bwaste of (?:oxygen|air|skin|space)\b|\byou (?:do not|dont) belong\b|\bshut up,? (?:you )?(?:fatty|freak|loser|idiot|weirdo|ugly|fat)\b|\b(?:as|so) (?:ugly|fat|stupid|thick|dumb|disgusting|pathetic) as you\b|\byou are (?:literally |actually )?(?:nothing|worthless|no one|nobody)\b|\b(?:you are|your|you|you re) (?:so |such a |really |literally )?(?:fat|ugly)(?: af| as fuck)?\b",
        BANTER + r"|\bfat (?:chance|lot)\b",
        "bullies someone",
    ),
    # --- a fourth pass: further phrasings ------------------------------------------------
    (
        "move.more",
        "grooming.platform_move",
        0.9,
        r"\bcarry on (?:\w+ ){0,2}(?:on|over on|in) {APP}\b|\b(?:messages|chats|it|everything|this) (?:here |on here )?(?:get|are|is|gets) (?:checked|read|monitored|watched|seen|recorded)\b|\b(?:new|second|secret|private|other) account (?:just )?for (?:us|you|me and you|talking|our chats)\b|\b(?:switch|change|move) (?:apps|app|platforms|to another app|to a different app)\b",
        "",
        "moves the chat off this app",
    ),
    (
        "move.use_app",
        "grooming.platform_move",
        0.7,
        r"\b(?:use|try|get on) {APP}\b",
        "",
        "points to another app",
    ),
    (
        "secret.more",
        "grooming.secrecy",
        0.9,
        r"\b(?:dont|do not|never) say (?:nothing|anything|a word|owt)\b|\bsecret (?:you|we) (?:can not|must not|should not) (?:share|tell)\b|\bnot to (?:tell|say|mention)\b (?:\w+ ){0,2}(?:anyone|anybody|parents|mum|dad|about|your)\b|\b(?:no one|nobody) (?:finds|find|found|will find) out\b|\bif you (?:tell|say) (?:anyone|anybody|your|them)\b",
        SURPRISE,
        "asks for secrecy",
    ),
    (
        "secret.keep",
        "grooming.secrecy",
        0.7,
        r"\b(?:just|only) for us\b|\bkeep (?:a|our|this|the|it a) secret\b",
        SURPRISE,
        "asks the child to keep a secret",
    ),
    (
        "image.ask",
        "grooming.image_request",
        0.9,
        r"\b(?:can|could|may) i (?:have|get|see) (?:a |another |one more |some |more )?(?:pic|pics|selfie|vid|video)\b|\b(?:pic|pics|selfie|vid|video)s? of you\b",
        HOMEWORK + r"|trip|holiday|part(?:y|ys|ies)|with your|and your",
        "asks for a picture of the child",
    ),
    (
        "image.ask_soft",
        "grooming.image_request",
        0.7,
        r"\bone more (?:pic|selfie|photo|vid)\b|\btake one for me\b",
        HOMEWORK,
        "asks for another picture",
    ),
    (
        "meet.more",
        "grooming.meeting",
        0.9,
        r"\b(?:i am|i will be) coming to (?:your|you) (?:area|town|city|school|house|village|street)\b|\bhotel\b|\b(?:take|taking) you out\b(?: for| on a| to)?",
        r"\b(?:holiday|trip|family|mum|dad|parents)\b",
        "plans to meet the child",
    ),
    (
        "meet.can",
        "grooming.meeting",
        0.55,
        r"\bwe (?:can|could|should) meet\b",
        "",
        "suggests meeting",
    ),
    (
        "gift.more",
        "grooming.gifts",
        0.9,
        r"\btop up (?:your|you) (?:account|phone|credit|card|balance)\b",
        "",
        "offers to pay for the child",
    ),
    (
        "gift.more_soft",
        "grooming.gifts",
        0.7,
        r"\b(?:i have got|i have|got) (?:a |some )?(?:little |small |special )?(?:gift|present|surprise) for you\b",
        SURPRISE,
        "has a gift for the child",
    ),
    (
        "probe.more",
        "grooming.personal_probe",
        0.7,
        r"\bdo you live (?:near|by|close to|on)\b|\bwhere do you (?:hang out|go after school|play|walk home)\b|\bare you (?:at )?home\b",
        "",
        "asks where the child is",
    ),
    (
        "sexual.more",
        "grooming.sexual",
        0.9,
        r"\bdo you wear a bra\b|\b(?:bra|cup|breast) size\b|\b(?:no|without (?:any|your)?) ?clothes(?: on)?\b|\bclothes off\b|\bdo (?:things|stuff) to you\b",
        "",
        "sexual talk",
    ),
    (
        "sexual.kiss",
        "grooming.sexual",
        0.7,
        r"\bfirst kiss\b|\bkiss (?:you|me)\b",
        r"\b(?:nan|grandma|goodnight|night night|xx)\b",
        "talks of kissing",
    ),
    (
        "flatter.more",
        "grooming.flattery",
        0.9,
        r"\b(?:cooler|prettier|smarter|better|hotter|more fun|nicer) than (?:other|the other|most|all the other|any other) (?:girls|boys|kids)\b|\bknown each other (?:forever|for years|all my life)\b|\bnever met (?:a girl|a boy|anyone|someone|somebody) like you\b|\btoo (?:mature|good|grown up) for (?:the )?(?:boys|girls|kids|people)\b",
        "",
        "sets the child apart as special",
    ),
    (
        "flatter.everything",
        "grooming.flattery",
        0.7,
        r"\b(?:you are|your) my (?:everything|world|whole world|angel|baby|princess)\b",
        "",
        "intense affection",
    ),
    (
        "harm.keep_going",
        "self_harm",
        0.9,
        r"\b(?:can not|do not think i can|dont think i can|i can not) (?:keep going|go on|carry on|do this anymore|cope)\b",
        r"\b(?:run|running|race|lap|level|game|climb|walk|homework|match)\b",
        "cannot go on",
    ),
    (
        "bully.more2",
        "bullying",
        0.9,
        r"\b(?:everyone|everybody|all of us|the whole \w+)(?: \w+){0,3} (?:hates|laughs at|is laughing at|thinks you are) you?\b|\bgo (?:and )?die\b|\bmake your life (?:hell|a misery|miserable)\b|\b(?:you are|you re|your) (?:a |an |such a )?(?:disgrace|disappointment|mess|embarrassment)\b|\b(?:nobody|no one) (?:wants to be|will be|would be|is) your friend\b",
        BANTER,
        "bullies someone",
    ),
    # --- a fifth pass -----------------------------------------------------------------
    (
        "move.fifth",
        "grooming.platform_move",
        0.9,
        r"\bcome (?:on|over to|onto) {APP}\b|\b(?:add|follow|message|text|dm) my (?:other|second|private|secret|spare|new) (?:account|number|profile)\b|\b(?:lets|let us|can we|shall we|we could|we can) (?:facetime|video call|video chat|call|ring)\b|\b(?:message|text|dm|chat to|talk to) me (?:privately|in private|on my own|direct)\b|\bvideo chat (?:on|over|with)\b",
        "",
        "moves to a private channel",
    ),
    (
        "secret.fifth",
        "grooming.secrecy",
        0.9,
        r"\b(?:just |only )?between (?:ourselves|the two of us)\b|\b(?:this|our) (?:conversation|chat|talk) never happened\b|\bkeep (?:a )?secrets?\b|\bno one (?:else s|elses) business\b|\b(?:our|my) (?:little )?(?:thing|secret)\b|\b(?:erase|delete|clear|wipe|remove) (?:all )?(?:our|my|the|these|your) (?:messages|chats|texts|history|convo|conversation)\b",
        SURPRISE,
        "keeps the contact secret",
    ),
    (
        "image.fifth",
        "grooming.image_request",
        0.9,
        r"\btake a (?:selfie|pic|photo)\b.{0,20}\b(?:send|for me)\b|\b(?:got|have you got|do you have) a (?:pic|picture|photo|selfie) of (?:yourself|you)\b|\bone of you in\b|\b(?:pic|pics|photo|selfie) of you in (?:bed|the bath|the shower|your room)\b",
        HOMEWORK,
        "asks for a picture of the child",
    ),
    (
        "meet.fifth",
        "grooming.meeting",
        0.9,
        r"\b(?:i can|i could|i will|ill) come to where you (?:live|are|go to school)\b|\b(?:i will be|ill be|i am|i will wait) (?:outside|near|by|at) (?:your|you) (?:school|house|home|work|gate)\b|\bmeet (?:at|round|over at) mine\b|\b(?:come|go) to my (?:house|place|flat|room)\b|\b(?:give|giving) you a lift\b|\bafter dark\b",
        r"\b(?:club|trip|session|parents|mum|dad|minibus)\b",
        "arranges to meet the child",
    ),
    (
        "gift.fifth",
        "grooming.gifts",
        0.9,
        r"\b(?:do you want|would you like|want) me to (?:send|buy|get|give) you\b|\b(?:i will|ill|let me|i can) treat you\b|\b(?:i have|i ve|got) (?:got )?something (?:special|nice) for you\b|\b(?:want|do you want) me to buy you\b|\bamazon voucher\b",
        SURPRISE,
        "offers the child gifts",
    ),
    (
        "probe.fifth",
        "grooming.personal_probe",
        0.9,
        r"\bwhere(?: abouts)? are you\b(?! going| up to| at with)|\bare your parents (?:strict|around|home|out|away|nice)\b|\b(?:doing|are you) home alone\b|\b(?:do|does) (?:your|you) (?:parents|mum|dad|family) know (?:you are|your|you) (?:talking|chatting|speaking)\b",
        "",
        "asks about the child's whereabouts and supervision",
    ),
    (
        "sexual.fifth",
        "grooming.sexual",
        0.9,
        r"\b(?:wearing|got) anything under\b|\bunder (?:your|you) clothes\b|\b(?:ever|have you) sent nudes\b|\b(?:see|show me|touch) (?:your|you) (?:body|chest|boobs)\b|\bgrown ?up (?:stuff|things|games)\b|\bin bed thinking (?:about|of) you\b|\btouch you\b",
        "",
        "sexual talk",
    ),
    (
        "flatter.fifth",
        "grooming.flattery",
        0.9,
        r"\btoo (?:pretty|cute|beautiful|fit|hot) to be single\b|\bwise beyond (?:your|you) years\b|\bi love how (?:mature|grown up|pretty|beautiful|cute) you are\b|\b(?:so )?lucky to have (?:met|found) you\b|\byou understand me (?:better|more) than\b",
        "",
        "builds a special bond",
    ),
    (
        "harm.fifth",
        "self_harm",
        0.9,
        r"\bwish i (?:was not|wasnt|were not|werent|had never been|was never) (?:alive|born|here|around)\b|\b(?:life|living) (?:is not|isnt|aint) worth\b|\bnot worth living\b|\b(?:no|can not see a|cant see a|do not have a|dont have a|cant find a|can not find a) reason (?:to|for) (?:live|living|be here|stay|carry on|go on|keep going|wake up)\b|\bthink(?:ing)? (?:about|of) (?:jumping|dying|death|not being here|not waking up)\b",
        r"\b(?:trampoline|pool|lake|swimming|parachute|bungee|fun|party)\b",
        "no reason to live",
    ),
    (
        "bully.fifth",
        "bullying",
        0.9,
        r"\b(?:everyone|everybody|the whole school|the whole year) (?:is|s|are)? ?(?:going to|gonna|will) see (?:your|you|that|the) (?:pic|pics|photo|photos|video|vid|nudes|messages)\b|\bwe (?:all )?(?:hate|despise) you\b",
        BANTER,
        "humiliates someone",
    ),
    # --- concept rules: a first-person death or harm word together with wanting, planning
    # or despair, in any order (what one phrase family cannot list) ---------------------
    (
        "harm.concept",
        "self_harm",
        0.7,
        r"^(?=.*\b(?:i|me|my|myself|meself)\b)(?=.*\b(?:die|dying|dead|death|suicide|suicidal|kill myself|end it|end my|own life|my life|overdose|pills|tablets|cut myself|cutting|burn myself|burning myself|scratch\w*|bleed\w*|hurt myself|be hurt|harm myself|jump off|jumping off|hang myself|not be here|not here anymore|be gone|not wake|everything to be over|it all to be over|to stop existing)\b)(?=.*\b(?:want|wish|going to|plan|planning|thinking|think about|thought about|feel like|deserve|keep|been|can not|no point|no reason|better off|tired of|sick of|done with|ready to|tonight|should|might as well|need to|taking)\b)",
        r"\b(?:lol|haha+|lmao|exam|test|homework|embarrass\w*|laugh\w*|dying to|film|movie|game|level|kill me if|will kill me|would kill me|phone|battery|dead tired|dead funny|cringe|bored|boring|hair|nails|paper|brother|sister)\b",
        "talks of dying or harming themselves",
    ),
    (
        "bully.concept",
        "bullying",
        0.7,
        r"^(?=.*\b(?:you|your)\b)(?=.*\b(?:vile|disgusting|gross|ugly|fat|loser|freak(?! out)|pathetic|worthless|useless|embarrassment|waste|battered|no friends|hate you|minger|scum|rank|smelly|stink|weirdo|jump off|reject|creep)\b)",
        r"\b(?:not|never|are not|dont listen|ignore them|they are wrong|sorry|lol|haha+|jk|love you|xx+|film|game|dog|cat|food|shoes|did you|have you heard|someone|somebody|he|she|they|him|her)\b",
        "puts someone down",
    ),
    # --- a sixth pass -------------------------------------------------------------------
    (
        "move.sixth",
        "grooming.platform_move",
        0.9,
        r"\b{APP} is (?:easier|better|safer|more private|quicker)\b|\bjump on {APP}\b|\b(?:use|try) (?:a different|another|a better|a more private|a safer) (?:app|site|platform)\b|\btext me instead\b|\byour (?:contact details|details|contact)\b|\bfriend request on {APP}\b",
        "",
        "moves to another app",
    ),
    (
        "secret.sixth",
        "grooming.secrecy",
        0.9,
        r"\b(?:stays|stay|keep it|keep this) (?:private|secret|quiet|hidden)\b|\bno telling\b|\b(?:if|when) (?:people|anyone|they|your parents) (?:find|finds) out\b|\btrust you not to (?:tell|say)\b|\bhush hush\b|\bblab\w*\b|\bno one (?:reads|sees|finds) (?:this|these|it)\b|\b(?:would not|wouldnt|will not|dont|do not) understand what we (?:have|are|share)\b",
        SURPRISE,
        "keeps the contact secret",
    ),
    (
        "meet.sixth",
        "grooming.meeting",
        0.9,
        r"\bwe need to meet\b|\bi know where (?:your|you) (?:school|house|live)\b|\b(?:get|come) to (?:the )?(?:\w+ )?(?:station|bus stop|park|shops?) on (?:your|you) own\b|\blet me come (?:round|over)\b|\b(?:drive|take) you home\b|\bjust us\b",
        r"\b(?:club|trip|session|parents|mum|dad|minibus|practice|training|team|class|we all)\b",
        "arranges to meet",
    ),
    (
        "gift.sixth",
        "grooming.gifts",
        0.9,
        r"\byou can have my (?:old )?(?:\w+)\b|\bfree stuff\b|\b(?:put|sent|transferred) money (?:in|into|to) (?:your|you)\b|\bwhat do you want for (?:christmas|your birthday)\b.{0,30}\b(?:get|buy)\b|\b(?:i will|ill) send (?:you )?(?:robux|vbucks|v bucks|money|cash)\b",
        "",
        "offers the child gifts",
    ),
    (
        "probe.sixth",
        "grooming.personal_probe",
        0.7,
        r"\bdo you share a (?:room|bedroom|bed)\b|\bwhat does (?:your|you) (?:house|home|room|school) look like\b",
        "",
        "asks about the child's home",
    ),
    (
        "sexual.sixth",
        "grooming.sexual",
        0.9,
        r"\bwithout (?:your|you) (?:top|clothes|shirt|bra|pants)\b|\bin bed\b.{0,20}\b(?:feel|special|together|with me)\b|\bkiss (?:your|you) (?:neck|lips|body)\b|\bwhat do you sleep in\b",
        "",
        "sexual talk",
    ),
    (
        "flatter.sixth",
        "grooming.flattery",
        0.9,
        r"\bunlike anyone\b|\bso close to you\b|\bbest thing in my life\b|\bi adore you\b",
        r"\b(?:nan|grandma|mum|dad)\b",
        "intense attachment",
    ),
    (
        "harm.sixth",
        "self_harm",
        0.9,
        r"\btak(?:e|ing) my (?:own )?life\b|\bplan to end it\b|\bfeel like dying\b|\bdeserve to (?:be hurt|die|suffer|be in pain)\b|\bbe here no more\b",
        "",
        "talks of ending their life",
    ),
    (
        "bully.sixth",
        "bullying",
        0.9,
        r"\bno wonder you (?:have|ve)? ?(?:got )?no friends\b|\bgo jump off\b|\bmake sure everyone knows\b|\b(?:going to|gonna) get (?:battered|beaten|smashed|jumped|hurt)\b",
        BANTER,
        "bullies someone",
    ),
    # --- concept rules for grooming, at moderate strength: they flag only where the
    # sender is a stranger adult, an unattested account or a much older minor ----------
    (
        "move.concept",
        "grooming.platform_move",
        0.7,
        r"^(?=.*\b{APP}\b)(?=.*\b(?:you|your|me|my|us|we)\b)|\b(?:private|secret) (?:chat|app|group|room|server|account)\b|\b(?:download|install) (?:this|an?|the) app\b|\b(?:somewhere|place) (?:nobody|no one) (?:else )?can see\b|\bsearch (?:for )?me on\b|\byour other app\b",
        r"\bsnap (?:me |us )?(?:a|an|some|another) (?:pic|selfie|photo|vid)\b|\bsnap (?:a|the) (?:pic|photo)\b",
        "mentions another app or a private channel",
    ),
    (
        "secret.concept",
        "grooming.secrecy",
        0.7,
        r"^(?=.*\b(?:no one|nobody|anyone|anybody|mum|dad|parents|friends|family|people|teachers?|a soul)\b)(?=.*\b(?:know|knew|knows|find out|finds out|found out|see|sees|tell|telling|told|asks|mention|hear|reads)\b)(?=.*\b(?:trouble|secret|quiet|promise|ever|never|dont|can not|must not|not|locked|delete|only|just|say|pretend)\b)|\bkeep quiet about\b",
        SURPRISE,
        "keeps the contact from others",
    ),
    (
        "image.concept",
        "grooming.image_request",
        0.7,
        r"^(?=.*\b(?:pic|pics|picture|pictures|photo|photos|selfie|video|vid|webcam|camera|cam)\b)(?=.*\b(?:send me|show me|give me|i want a|i need a|take a|turn|switch|of you|of yourself)\b)|^show me[ !.?]*$",
        HOMEWORK
        + r"|\blink\b|\bof the\b|\bclass\b|\bgroup\b|\bfrom the\b|\beveryone\b|\bassembly\b|\bteacher\b",
        "asks for pictures",
    ),
    (
        "meet.concept",
        "grooming.meeting",
        0.7,
        r"^(?=.*\b(?:meet|meeting|meet up|come over|come round|pick you up|visit you|hang out)\b)(?=.*\b(?:free|when|where|tonight|tomorrow|weekend|after school|soon|alone|just us|my place|mine|next week|this week)\b)",
        "",
        "proposes meeting",
    ),
    (
        "gift.concept",
        "grooming.gifts",
        0.7,
        r"^(?=.*\b(?:buy|get|send|give|pay|top|treat|gift|present|money|cash|robux|vbucks|ps5|xbox|iphone|phone|voucher|paypal)\b)(?=.*\b(?:you|your)\b)(?=.*\b(?:i|ill|me|let me|want|would like|like)\b)(?=.*\b(?:buy|gift|present|money|cash|robux|vbucks|ps5|xbox|iphone|new phone|voucher|paypal|top you up|top up|£\s?\d+|\d+ quid|pay you|pay for)\b)",
        r"\b(?:link|number|message|pic|pics|photo|address|details|answers|homework)\b",
        "offers the child things",
    ),
    (
        "probe.concept",
        "grooming.personal_probe",
        0.7,
        r"^(?:how|what|where|which|are|is|do|does|when|who)\b(?=.*\b(?:you|your)\b)(?=.*\b(?:old|grade|live|address|postcode|home|alone|parents|mum|dad|tall|weigh|bedroom|room|real name|surname|area|town|street)\b)",
        "",
        "asks about the child",
    ),
    (
        "flatter.concept",
        "grooming.flattery",
        0.7,
        r"^(?=.*\b(?:you|your|you are)\b)(?=.*\b(?:beautiful|pretty|gorgeous|cute|stunning|special|mature|older than|grown up|perfect|amazing|favourite|not like the others|lovely|something special|as special)\b)",
        r"\b(?:dress|prom|costume|haircut|performance|match|game|goal|show|play|concert|test|result|drawing|well done|drawings|photo|pic|video|sis|bro|cuz|little sister|little brother|baby sister)\b",
        "compliments the child",
    ),
    (
        "sexual.concept",
        "grooming.sexual",
        0.9,
        r"\b(?:see|touch|feel) my body\b|\bmy body\b.{0,20}\b(?:want|see|show|touch)\b|\btalk dirty\b",
        "",
        "sexual talk",
    ),
    (
        "harm.seventh",
        "self_harm",
        0.9,
        r"\b(?:want|wish|need) (?:it all|everything|the pain|life|my life) to (?:end|stop|be over)\b",
        "",
        "wants everything to end",
    ),
    (
        "bully.seventh",
        "bullying",
        0.9,
        r"\byou should (?:die|just die|kill yourself|disappear|go die|not exist)\b|^(?:you |ur |you re |you are )?(?:a )?(?:loser|freak|weirdo|fatty|pig|cow|slag|bitch|creep|saddo|tramp|minger|scum|loner)[ !.?]*$",
        BANTER,
        "insults someone",
    ),
    (
        "bully.get_you",
        "bullying",
        0.7,
        r"\b(?:going to|gonna|will|coming to|we will|well|ill) get you\b",
        BANTER
        + r"|\b(?:present|gift|drink|food|from school|from the|at the|a |some |pizza|chips)\b",
        "threatens someone",
    ),
    # --- a seventh pass -------------------------------------------------------------
    (
        "move.seventh",
        "grooming.platform_move",
        0.9,
        r"\b(?:i am|im) on {APP}\b",
        "",
        "says where else to find them",
    ),
    ("secret.shh", "grooming.secrecy", 0.7, r"\bshh+\b", SURPRISE, "hushes the child"),
    (
        "image.seventh",
        "grooming.image_request",
        0.9,
        r"\bon (?:cam|camera|webcam|video call)\b",
        HOMEWORK,
        "asks to see the child on camera",
    ),
    (
        "meet.seventh",
        "grooming.meeting",
        0.9,
        r"\b(?:i will|ill|i can|i could) come to you\b",
        "",
        "offers to come to the child",
    ),
    (
        "gift.seventh",
        "grooming.gifts",
        0.7,
        r"\b(?:i will|ill|i can|let me) pay for (?:it|that|them|everything|you)\b",
        "",
        "offers to pay",
    ),
    (
        "sexual.seventh",
        "grooming.sexual",
        0.9,
        r"\bnudes?\b|\btake off (?:your|you) (?:top|clothes|shirt|bra|pants|t shirt|jumper|dress|trousers|skirt)\b",
        "",
        "sexual request",
    ),
    (
        "bully.seventh_go",
        "bullying",
        0.9,
        r"\b(?:go away|get lost|shut up|piss off|jog on),? (?:you )?(?:freak|loser|weirdo|fatty|pig|cow|slag|creep|saddo|idiot|tramp|minger)\b",
        BANTER,
        "insults someone",
    ),
    # --- an eighth pass, from whole conversations written in other voices --------------
    (
        "flatter.eighth",
        "grooming.flattery",
        0.9,
        r"\b(?:better|prettier|smarter|more mature|older|wiser|cooler) than (?:\w+ ){0,3}(?:girls|boys|kids|people)\b|\btwice (?:your|you) age\b",
        "",
        "compares the child favourably with others",
    ),
    (
        "flatter.eighth_soft",
        "grooming.flattery",
        0.7,
        r"\bthinking (?:about|of) you\b|\b(?:you are|your) my (?:best|favourite|special|number one) (?:\w+ )?(?:buddy|friend|girl|boy|mate|person|player)\b",
        r"\b(?:nan|grandma|get well|sorry for your loss|funeral|exam|good luck)\b",
        "singles the child out",
    ),
    (
        "secret.eighth",
        "grooming.secrecy",
        0.9,
        r"\b(?:best|better|safer) (?:if )?(?:they|your (?:mum|dad|parents|family)|no one|nobody|people) (?:dont|do not|doesnt|does not|never) (?:see|know|find out|read|hear)\b",
        SURPRISE,
        "hides the contact",
    ),
    (
        "harm.eighth",
        "self_harm",
        0.9,
        r"\b(?:do not|dont|can not|cant) see (?:why|how|the point|a reason)\b.{0,30}\b(?:carry on|go on|keep going|live|living|be here|bother|stay)\b|\bwhy (?:should|would) i (?:carry on|go on|keep going|bother living|stay alive|live)\b",
        r"\b(?:game|level|homework|revision|match|team|club|watching|series|show)\b",
        "sees no reason to go on",
    ),
    (
        "bully.eighth",
        "bullying",
        0.9,
        r"\b(?:nobody|no one|noone)(?: even| really| ever| actually)? (?:likes|wants|cares about|will miss|would miss|invited|asked for) you\b",
        BANTER,
        "excludes someone",
    ),
    (
        "meet.eighth",
        "grooming.meeting",
        0.9,
        r"\b(?:i could|i can|i will|ill|let me) come (?:round|over|around)\b",
        r"\b(?:mum|dad|club|session|practice|homework)\b",
        "offers to come round",
    ),
    # --- a ninth pass, from more whole conversations ---------------------------------
    (
        "flatter.ninth",
        "grooming.flattery",
        0.9,
        r"\b(?:the )?(?:most|best|prettiest|smartest|cutest|sweetest|loveliest) (?:\w+ ){0,2}(?:i have|i|i ve) (?:ever )?(?:met|seen|known|coached|taught|talked to|spoken to)\b",
        "",
        "sets the child above everyone",
    ),
    (
        "flatter.ninth_soft",
        "grooming.flattery",
        0.7,
        r"^(?:hey|hi|hiya|hello|morning|night|heya)\s+(?:there )?(?:gorgeous|beautiful|sexy|babe|baby|princess|cutie|sweetie|hun|hunny|darling|angel|stunning|sweetheart)\b|\byou (?:seem|look|sound) (?:really |so |very )?(?:cool|mature|nice|lovely|fun|grown up|older|special|amazing|pretty)\b|\bi (?:really )?(?:like|love|fancy|adore) you\b",
        r"\b(?:dress|prom|costume|haircut|school play|nan|grandma|mum|dad|sis|bro)\b",
        "affection that builds trust",
    ),
    (
        "meet.ninth",
        "grooming.meeting",
        0.9,
        r"\bjust (?:the two of us|you and me|me and you|us two)\b|\bextra (?:training|lessons|practice|coaching|tuition|sessions?)\b.{0,30}\b(?:just|alone|only you|private)\b",
        "",
        "wants the child alone",
    ),
    (
        "secret.ninth",
        "grooming.secrecy",
        0.9,
        r"\b(?:no one|nobody) (?:needs|has|should|will|gets) to (?:see|read|know|hear)\b|\bwhat we (?:talk|chat) about\b.{0,20}\b(?:private|secret|us|no one|nobody)\b",
        SURPRISE,
        "keeps the contact hidden",
    ),
    (
        "harm.ninth",
        "self_harm",
        0.9,
        r"\b(?:everyone|everybody|they|people|my family|you all) (?:would|will|d) be (?:happier|better off|better)\b.{0,20}\b(?:if i|without me)\b|\bif i (?:was not|wasnt|were not|werent) (?:around|here|alive)\b|\b(?:hit|hitting|punch|punching|bite|biting|scratch|scratching) myself\b|\bbang(?:ing)? my head\b|\bmaking myself (?:sick|throw up|starve)\b",
        "",
        "talks of harming themselves",
    ),
    (
        "bully.ninth",
        "bullying",
        0.9,
        r"\byou look like (?:a|an) (?:tramp|freak|pig|cow|loser|clown|idiot|mess|slag|weirdo|rat|dog|boy|man|thing|alien|whale)\b|\bcry about it\b|\bscreenshot\w*\b.{0,40}\b(?:group|everyone|chat|year|class|school)\b",
        r"\b(?:costume|halloween|fancy dress|dressing up)\b",
        "humiliates someone",
    ),
    (
        "bully.ninth_soft",
        "bullying",
        0.7,
        r"\b(?:no one|nobody|noone) (?:cares|asked)\b",
        BANTER,
        "dismisses someone",
    ),
    (
        "sexual.ninth",
        "grooming.sexual",
        0.9,
        r"\b(?:your|you in|you wearing|in your) (?:\w+ )?(?:nightie|nightdress|negligee|knickers|panties|lingerie|underwear|bra|bikini)\b",
        "",
        "talks of the child's underwear",
    ),
    (
        "gift.ninth",
        "grooming.gifts",
        0.7,
        r"\b(?:i will|ill) pay\b|\bmy treat\b|\bon me\b(?= ?(?:$|,|\.|!))",
        r"\b(?:back|you back|half|my share|the bill for the club)\b",
        "offers to pay",
    ),
    # --- a tenth pass, from a further set of whole conversations -------------------------
    (
        "bully.tenth",
        "bullying",
        0.9,
        r"^(?:\w+ ){0,3}(?:reject|loser|freak|tramp|scrubber|peasant|snitch|grass|scum|weirdo|saddo|creep|minger|loner)[ !.?]*$|\b(?:your|you) (?:family|mum|dad|house|clothes|shoes|hair|face) (?:is|are|looks?|look) (?:so |really )?(?:poor|ugly|fat|disgusting|embarrassing|gross|minging|rank|trash|tramp)\b|\b(?:you are|you re|your) (?:getting|gonna get|going to get) (?:jumped|battered|beaten|smashed|merked|done in|bashed|hurt)\b|\beveryone knows (?:what you|about you|you are)\b|\byou can not (?:play|sit|hang out|come|join) with us\b|\b(?:you are|your) not (?:allowed|welcome) (?:to )?(?:play|sit|join|in|with)\b",
        BANTER,
        "bullies someone",
    ),
    (
        "bully.tenth_soft",
        "bullying",
        0.7,
        r"^make (?:us|me)[ !.?]*$|\bif you (?:come|show up|turn up) (?:to|at|in) (?:school|the park|football|class)\b",
        BANTER,
        "taunts or threatens",
    ),
    (
        "harm.tenth",
        "self_harm",
        0.9,
        r"\b(?:do not|dont|can not) (?:really |even |honestly )?see the point (?:in|of) (?:anything|living|life|going on|being here)\b|\b(?:written|wrote|writing|left) (?:\w+ ){0,2}(?:letters|notes|a letter|a note) (?:to|for) (?:everyone|my family|my mum|you all|people|each of you)\b|\bgoodbye (?:letter|letters|note|notes|ones|message|messages)\b|\b(?:will not|not going to|am not going to) be (?:around|here|alive) (?:after|by|next|much|for)\b",
        r"\b(?:holiday|trip|nans|grandmas|camp|busy|working|away|visiting|part(?:y|ys|ies)|match|revision|moving house|leaving school)\b",
        "plans or signals a goodbye",
    ),
    (
        "flatter.tenth",
        "grooming.flattery",
        0.9,
        r"\b(?:most|other) (?:girls|boys|kids|people) (?:your|you) age (?:are|r)\b|\b(?:your|you) (?:parents|mum|dad|family) (?:sound|seem|are) (?:really |so )?(?:strict|mean|unfair|horrible|controlling)\b|\bi would never treat you like (?:that|they do)\b",
        "",
        "sets the child apart from peers and parents",
    ),
    (
        "flatter.tenth_soft",
        "grooming.flattery",
        0.7,
        r"\b(?:you can|u can) (?:talk to|tell) me (?:about )?anything\b|\bi (?:will not|wont|would never) judge\b|\bnot fair on you\b",
        "",
        "offers a special confidence",
    ),
    (
        "probe.tenth",
        "grooming.personal_probe",
        0.7,
        r"^(?:you|are you) (?:up|awake|still up)\b",
        "",
        "checks the child is awake late",
    ),
    (
        "secret.tenth",
        "grooming.secrecy",
        0.9,
        r"\bkeep (?:this|it|us|that) (?:from|away from) (?:your|you) (?:parents|mum|dad|family|friends)\b",
        SURPRISE,
        "hides the contact from the child's adults",
    ),
    (
        "sexual.tenth",
        "grooming.sexual",
        0.9,
        r"\b(?:no |without (?:a |your )?)(?:top|shirt|bra|clothes|pants|knickers) on\b|\bnothing on\b|\btopless\b",
        r"\b(?:tv|telly|netflix|cinema|film)\b",
        "asks for the child undressed",
    ),
    (
        "meet.tenth",
        "grooming.meeting",
        0.7,
        r"\b(?:grab|get|go for) (?:a |some )?(?:coffee|drink|bite|food|milkshake|maccies|mcdonalds|ice cream)\b",
        r"\b(?:mum|dad|club|team|all of us|everyone|after practice)\b",
        "invites the child out",
    ),
    # --- an eleventh pass, from indirect whole conversations -----------------------------
    (
        "sexual.extortion",
        "grooming.sexual",
        0.9,
        r"\b(?:send|post|share|leak|show)\b (?:\w+ ){0,3}(?:to )?(?:all )?(?:your|you) (?:followers|friends|family|contacts|school|mum|parents|class)\b(?=.*\b(?:pics|photos|nudes|them|videos|vids|images)\b)|\b(?:i have|i ve|got) (?:your|you) (?:pics|photos|nudes|videos)\b|\bor (?:pay|i will|ill|else)\b(?=.*(?:£|\bpics\b|\bmore\b|\bsend\b))",
        "",
        "threatens to share the child's pictures",
    ),
    (
        "flatter.eleventh",
        "grooming.flattery",
        0.9,
        r"\b(?:such a |so )?(?:good|great|amazing|brilliant) listener\b|\b(?:the )?(?:sweetest|kindest|nicest|loveliest|coolest|funniest|smartest) (?:person|girl|boy)\b|\bbe my (?:girlfriend|boyfriend|wife|babe|baby)\b",
        "",
        "flatters and draws the child in",
    ),
    (
        "flatter.eleventh_soft",
        "grooming.flattery",
        0.55,
        r"\b(?:you are|your) (?:insane|amazing|incredible|so good|unreal|a legend|class) at\b|\btype like an adult\b|\b(?:seem|sound|act) (?:so |really )?(?:older|grown up|mature)\b",
        "",
        "compliments the child",
    ),
    (
        "probe.eleventh",
        "grooming.personal_probe",
        0.9,
        r"\bwhen (?:you are|your) (?:on your own|alone|by yourself|home alone)\b|\bname of (?:your|you) (?:school|street|road|town|village)\b",
        "",
        "asks when the child is alone, or where",
    ),
    (
        "gift.eleventh",
        "grooming.gifts",
        0.9,
        r"\btake you (?:shopping|out for|to the shops)\b|\banything you want\b",
        r"\b(?:mum|dad|nan|birthday)\b",
        "offers treats",
    ),
    (
        "secret.eleventh",
        "grooming.secrecy",
        0.9,
        r"\b(?:dont|do not|never) (?:say|tell (?:anyone|them|her|him|your \w+)) (?:who|where|what) you\b",
        SURPRISE,
        "hides who the child is with",
    ),
    (
        "move.eleventh",
        "grooming.platform_move",
        0.55,
        r"\bcall you\b",
        r"\b(?:mum|dad|nan|club|office|later about the|back)\b",
        "wants to call",
    ),
    (
        "image.eleventh",
        "grooming.image_request",
        0.9,
        r"\bsend each other (?:pics|photos|nudes|selfies|pictures)\b|\b(?:thats|that is|its|it is) (?:normal|what \w+ do|what couples do)\b",
        "",
        "normalises sending pictures",
    ),
    (
        "harm.eleventh",
        "self_harm",
        0.9,
        r"\b(?:have not|havent|not) eaten (?:in|for) (?:\w+ )?(?:days|a week|ages|weeks)\b|\b(?:nobody|no one)(?: \w+){0,3} (?:cares|care|would care|notices|would notice) (?:if|whether) i (?:am|m|was|live|die|died|exist)\b",
        "",
        "signals self-harm or not caring to live",
    ),
    (
        "harm.eleventh_soft",
        "self_harm",
        0.55,
        r"\b(?:make|making) (?:it|everything|the pain) stop\b|\brun away and never come back\b|\b(?:starving|not eating) (?:myself|on purpose)\b",
        r"\b(?:noise|music|dog|baby|crying|alarm)\b",
        "signals despair",
    ),
    (
        "harm.eleventh_faint",
        "self_harm",
        0.45,
        r"\bnot your fault\b|\bi deserve (?:it|this|to)\b|\bsorry for everything\b",
        "",
        "a faint sign, counted only with others",
    ),
    (
        "bully.eleventh",
        "bullying",
        0.9,
        r"\b(?:actually|really) thought (?:they|he|she|anyone|we|people) (?:liked|wanted) you\b|\blaughing (?:about|at) you\b|\blaughing ?stock\b|\b(?:vote|lets|let us) (?:to )?kick\b|\bkick (?:her|him|them|\w+) (?:out|from (?:the|our) (?:chat|group))\b|\byes kick (?:her|him|them)\b",
        BANTER,
        "humiliates or excludes someone",
    ),
)


def expand(pattern: str) -> str:
    """Replace `{FAMILY}` names with their alternations."""
    for name, alternatives in FAMILIES.items():
        pattern = pattern.replace("{" + name + "}", alternatives)
    return pattern
