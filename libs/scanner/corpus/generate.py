"""Write the scanner's labelled corpus: `train.jsonl` and `test.jsonl` beside this file.

Every conversation is made up for the project from the templates below (no downloaded data),
with a fixed seed, so `make corpus` rewrites the same files. Each template list is split in
two by position (every third entry goes to test), and each split's conversations use only its
own templates: the test split measures phrasings the rules and model never saw in training.
Chat noise (lower case, dropped apostrophes, `u`/`ur`, stretched letters, a lost letter) is
applied to both splits alike.

Labelling policy, as a moderator would read it:
- a message carries the indicators it expresses in its context (a guardian's "you look
  lovely" carries none; a stranger adult's does);
- `alert_from` is the first message where a conversation alert is warranted: a second
  distinct grooming indicator from an adult stranger or much older minor (or a first
  sexual, image or secret-meeting one); a first self-harm message; a second bullying message
  or a first threat; never for personal details swapped between peers.

This module is long because it is the corpus's text: templates, one per line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20261201
HERE = Path(__file__).resolve().parent
Message = tuple[str, str, list[str]]  # sender, text, labels

NAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Dev",
    "Ellie",
    "Finn",
    "Grace",
    "Harvey",
    "Isla",
    "Jay",
    "Kai",
    "Leah",
    "Max",
    "Nia",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosie",
    "Sami",
    "Tia",
    "Usman",
    "Vic",
    "Will",
    "Yasmin",
    "Zak",
    "Mo",
    "Lily",
    "Ruby",
    "Theo",
    "Aisha",
]
ADULT_NAMES = ["Dean", "Mark", "Steve", "Gaz", "Tony", "Lee", "Craig", "Paul", "Rob", "Jason"]
STAFF_NAMES = ["Ms Khan", "Sam", "Mr Hughes", "Coach Reid", "Jodie", "Miss Patel", "Tom"]
APPS = ["snap", "snapchat", "whatsapp", "telegram", "insta", "discord", "kik", "signal"]
GIFTS = ["robux", "vbucks", "a gift card", "£50", "some money", "a new phone", "a top up"]
SCHOOLS = [
    "Oakwood Academy",
    "St Mary's High School",
    "Riverside Primary",
    "Hillcrest School",
    "Kingsway Academy",
    "Greenfield High",
    "Parkside Primary School",
    "Westbrook College",
]
PLACES = ["the park", "the shopping centre", "McDonald's", "the bus station", "the cinema"]
STREETS = ["14 Elm Road", "3 Mill Lane", "27 Station Street", "8 Church Close", "51 Park Avenue"]
POSTCODES = ["M1 1AE", "LS6 2QT", "B15 3TN", "SW1A 1AA", "CF10 3NP", "G12 8QQ", "NE1 7RU"]
PHONES = ["07700 900123", "07700 900456", "07911 123456", "07123 456789", "+44 7700 900789"]
HANDLES = ["@jess_xo", "@maxgamer09", "@lily.b.2013", "@finn_fc", "@ruby_rose"]
EMAILS = ["jess2013@mail.com", "maxy09@example.com", "lilyb@example.co.uk"]
GAMES = ["fortnite", "minecraft", "roblox", "fifa", "among us"]

# --- grooming: one list per indicator ---------------------------------------------------
GROOMING: dict[str, list[str]] = {
    "grooming.flattery": [
        "you're so mature for your age honestly",
        "you're not like other girls your age, you actually get it",
        "I've never met anyone like you before",
        "you're really pretty you know that?",
        "nobody understands you like I do",
        "your parents don't really appreciate you do they",
        "we have a special connection, I can feel it",
        "you can tell me anything, I'm always here for you",
        "you seem way older than your age",
        "you're gorgeous, bet all the boys say that",
        "I think I'm falling for you",
        "you're my special girl",
        "honestly you're so cute in your profile pic",
        "you're special to me, more than anyone",
        "I get you better than your friends do",
        "you deserve someone who treats you properly",
        "you're stunning, seriously",
        "I think about you all the time",
        "you're so much smarter than kids your age",
        "your mum doesn't listen to you, I do",
        "you're perfect the way you are",
    ],
    "grooming.personal_probe": [
        "how old are you btw?",
        "what school do you go to?",
        "where do you live then?",
        "are you home alone right now?",
        "what year are you in at school?",
        "is anyone else home with you?",
        "what time do your parents get home from work?",
        "what area are you in?",
        "are you in your room on your own?",
        "do you have a boyfriend?",
        "asl?",
        "where abouts are you from",
        "do your parents check your phone?",
        "which school are you at?",
        "are your mum and dad in?",
        "what's your address, I want to post you something",
        "are you by yourself tonight?",
        "what time does your mum go to bed?",
        "have you ever had a boyfriend?",
        "how young are you, you look about 14",
        "send me your location",
    ],
    "grooming.gifts": [
        "I can send you robux if you want",
        "I'll buy you a new phone, yours is ancient",
        "want some free vbucks? I've got loads",
        "I'll give you £50 if you do something for me",
        "I could top up your phone for you",
        "I'll get you a gift card, whatever you want",
        "I'll send you some money for your birthday",
        "I can pay for your battle pass",
        "I'll buy you anything you want honestly",
        "let me get you some credit",
        "I'll transfer you some cash tonight",
        "need robux? I can send 1000 right now",
        "I want to spoil you",
        "I'll send you a present, you deserve it",
        "£20 for you if you're good",
    ],
    "grooming.secrecy": [
        "don't tell your mum about me ok",
        "this is just between us",
        "keep this our little secret",
        "delete these messages after you read them",
        "nobody needs to know we talk",
        "your parents wouldn't understand us",
        "don't mention me to your friends",
        "keep our chats private yeah?",
        "no one will ever know, promise",
        "clear the chat before your dad sees it",
        "don't tell anyone at school about this",
        "it's our secret ok? you promise?",
        "better not tell your parents, they'd overreact",
        "delete our chat just in case",
        "never show anyone these messages",
        "keep it on the down low",
        "you must not tell your family",
        "this stays between you and me",
        "don't say anything to your teacher",
        "our friendship is private, yeah?",
    ],
    "grooming.platform_move": [
        "add me on snap, it's easier",
        "what's your number? I'll text you",
        "let's talk on whatsapp instead",
        "do you have telegram?",
        "this app is monitored, let's move somewhere else",
        "message me on kik",
        "we should chat on a more private app",
        "give me your snapchat",
        "my snap is deano_88, add me",
        "are you on discord?",
        "text me on 07700 900111",
        "can I have your number?",
        "download signal, it's safer for us",
        "hmu on insta",
        "let's switch to snap",
        "send me your whatsapp",
        "we can talk somewhere more private",
        "find me on telegram, same name",
        "drop me your number",
        "chat to me on whatsapp later",
    ],
    "grooming.image_request": [
        "send me a pic of you",
        "can I see what you look like?",
        "send a selfie, just for me",
        "show me a pic in your pyjamas",
        "turn on your camera for me",
        "send me a photo of yourself",
        "take a pic for me, no one else will see it",
        "send me a pic without your top",
        "let me see you, go on cam",
        "send me a cute selfie",
        "show me your outfit",
        "snap me a pic in your uniform",
        "send nudes",
        "prove it with a pic",
        "send a pic back, I sent you one",
        "show me your body",
        "send me a vid of you dancing, just for me",
    ],
    "grooming.meeting": [
        "we should meet up in person",
        "I can pick you up from school",
        "come over to mine, my flat's empty",
        "let's finally meet, just us two",
        "I'll be in your area on Saturday",
        "which station is near you?",
        "we could meet without telling anyone",
        "I'll wait for you outside after school",
        "when can we meet?",
        "meet me alone at the park",
        "I could drive over to you",
        "come to my place, we can watch a film",
        "I want to see you in real life",
        "get in my car and we'll go somewhere",
        "meet me on your own, don't bring anyone",
        "I can come to your town this weekend",
    ],
    "grooming.sexual": [
        "what are you wearing right now?",
        "have you ever done it?",
        "you'd look sexy in that",
        "I want to kiss you all over",
        "do you touch yourself?",
        "are you a virgin?",
        "take it off for me",
        "you make me feel good",
        "you turn me on so much",
        "I'm thinking about you naked",
        "you've got a hot body",
        "have you done it before with anyone?",
    ],
}
OPENERS = [
    "hey, saw your post, you're really good at drawing",
    "hi! how's your day going",
    "hey you play {game} too right?",
    "hi, loved your video",
    "hey what's up",
    "hi there, we matched in the game lobby",
    "you're good at {game}, respect",
    "hey, are you the one from the {game} server?",
    "hi, how was school today",
]
CHILD_REPLIES = [
    "haha thanks",
    "ok",
    "lol",
    "idk",
    "yeah",
    "not really",
    "thanks i guess",
    "why?",
    "i'm 12",
    "year 7",
    "maybe",
    "hmm ok",
    "my mum's downstairs",
    "i have to go soon",
    "that's weird",
    "ok cool",
    "sure",
    "why do you want to know",
    "no",
    "omg thanks",
    "i'm 13",
    "im in year 8",
    "lol ok",
    "what do you mean",
    "ok i guess",
    "aww",
    "i'm not allowed",
    "brb",
    "yeah i play every day",
    "not sure",
]
CHILD_DISCLOSURES = [
    "I go to {school}",
    "i live at {street}",
    "my number is {phone}",
    "my postcode is {postcode}",
    "my snap is {handle}",
    "i'm at {school}",
    "my email is {email}",
    "we live on {street}, near the shop",
    "add me {handle}",
]

# --- self-harm --------------------------------------------------------------------------
SELF_HARM = [
    "i don't want to be here anymore",
    "i keep cutting myself and i can't stop",
    "sometimes i think everyone would be better off without me",
    "i want to die",
    "i took a load of pills last night",
    "i've been hurting myself again",
    "i wrote a goodbye note",
    "what's the point in living",
    "i hate myself so much, i just want it all to end",
    "i've started self harming",
    "i'm going to kill myself",
    "i don't want to wake up tomorrow",
    "i burn my arms so i can feel something",
    "my friend told me she's been cutting herself",
    "i want everything to stop, i can't do this anymore",
    "i wish i was dead",
    "i'm thinking about ending it all",
    "i relapsed, the cuts are bad this time",
    "no one would notice if i was gone",
    "i've been scratching my skin till it bleeds",
    "i'm a burden to everyone",
    "i want to disappear forever",
    "i nearly overdosed",
    "i feel suicidal",
]
SUPPORT = [
    "oh no, are you safe right now?",
    "please talk to someone, you can call childline",
    "i'm here for you, do you want to tell me what happened",
    "that sounds really hard",
    "can you tell an adult you trust?",
    "i care about you so much",
    "do you want me to come over?",
    "thank you for telling me",
    "you're not a burden, honestly",
    "let's talk to Ms Khan tomorrow together",
    "call 999 if you're in danger ok",
    "i'm really worried about you",
]
SAD_BENIGN = [
    "this homework is killing me",
    "i'm so tired today",
    "i could die of embarrassment lol",
    "maths was awful",
    "ugh mondays",
    "i failed my spelling test",
    "i'm dead lol that video",
    "kill me now, double science",
    "my sister is so annoying",
    "i feel a bit down today",
    "i'm so bored",
    "that boss level nearly killed me",
    "i'm literally dying of laughter",
]

# --- bullying ---------------------------------------------------------------------------
BULLYING = [
    "you're so ugly",
    "nobody likes you",
    "everyone hates you, just leave the group",
    "you're a fat loser",
    "kys",
    "go kill yourself",
    "i'm going to beat you up after school",
    "you're such a freak",
    "watch your back tomorrow",
    "we're going to post that video to everyone",
    "you're not invited, no one wants you there",
    "you're pathetic honestly",
    "what a weirdo",
    "no one wants you here",
    "you're disgusting",
    "everyone is laughing at you",
    "leave the chat, you're not one of us",
    "you're worthless",
    "i'll smash your face in",
    "the whole school is going to see this",
    "you're such a waste of space",
    "don't come to school on monday",
    "die in a hole",
    "you absolute loser",
    "you're dead after school",
    "we made a group to laugh at you",
]
VICTIM_REPLIES = [
    "stop it",
    "why are you being like this",
    "leave me alone",
    "please stop",
    "that's mean",
    "i'm telling miss",
    "what did i do",
    "ok",
    "i'm blocking you",
    "why",
]
BANTER = [
    "you're such an idiot lol love you",
    "haha you're so dumb jk",
    "you muppet 😂",
    "you're so weird haha",
    "shut up lol",
    "you're a legend",
    "i'm going to destroy you in {game}",
    "i'll beat you at fifa later",
    "you're dead in {game} tonight haha",
    "omg you're so annoying xx",
    "you're the worst lol",
    "stop being a nerd and come out",
    "that was stupid of me",
    "i'm going to kill you at {game} later",
    "you're a clown haha",
]

# --- benign hard cases ------------------------------------------------------------------
PRACTITIONER = [
    "Hi {child}, it's {staff} from the youth club. Session is Thursday at 6 at the community "
    "centre",
    "Remember to bring your trainers for the football session on Saturday",
    "The minibus leaves from the club car park at 9, parents have the letter",
    "Can you let your mum know the trip form is due Friday?",
    "Well done on the art project, it's going in the display!",
    "We're meeting at the library at 4 for homework club, the whole group is coming",
    "Please ask your parents to sign the consent form for the trip",
    "Your mum said you might be a bit late, that's fine",
    "The club address is 12 Mill Lane, opposite the church, doors open at 6",
    "Great effort today, you were brilliant in the team",
    "Don't forget it's the quiz night next week, bring a friend",
    "Reminder: no session next Tuesday because of half term",
    "If anything's worrying you, you can always talk to me or any of the staff",
    "I'll see you all at the centre on Wednesday, 5pm",
    "Can you send me a photo of the signed form?",
    "The office number is 0161 496 0000 if your parents need us",
    "You did really well in your interview, proud of you",
]
CHILD_TO_STAFF = [
    "ok see you there",
    "thanks!",
    "will do",
    "can i bring my friend?",
    "what time does it end?",
    "my mum will drop me off",
    "yes i'll be there",
    "cool thanks",
    "is it indoors?",
    "sorry i forgot the form",
    "i'll ask my dad",
    "yay",
]
SURPRISE = [
    "don't tell mum, it's a surprise for her birthday",
    "keep it secret from Jay, the party is on Saturday!",
    "shh don't tell anyone about the surprise party",
    "we're planning a surprise for dad, don't say anything to him",
    "nobody tell Rosie, it's her birthday present",
    "don't spoil it, the surprise is at 7",
    "let's keep the party a secret from Max until Friday",
    "don't tell your sister about the card for her birthday",
    "it's a surprise party so keep it quiet from Lily",
    "don't mention the present to Grandma, it's for her birthday",
]
HOMEWORK = [
    "can you send me a pic of the maths homework?",
    "send me a photo of page 42",
    "show me a pic of your science project",
    "can you take a pic of the worksheet",
    "send me a screenshot of the timetable",
    "send me a pic of your dog!!",
    "send a pic of the question 3 answers",
    "take a photo of the notes from today",
    "snap me a pic of the poster you made",
    "show me a pic of the cake you baked",
    "send the photo of our team with the trophy",
    "can you send a pic of the revision sheet",
]
SCHOOL_PASSING = [
    "we played {school} at netball and won!",
    "{school} has a new swimming pool apparently",
    "my cousin's moving to {school} next year",
    "there's a concert at {school} on friday",
    "did you see {school} on the news",
    "we have a match against {school} tomorrow",
    "the bus goes past {school}",
]
FAMILY = [
    "I'll pick you up from school at 3.30",
    "dinner at six, love you",
    "you look beautiful in your prom dress!",
    "I'll get you some new trainers at the weekend",
    "is anyone home? I forgot my keys",
    "don't forget your PE kit",
    "what time does your club finish? I'll collect you",
    "love you, have a good day",
    "can you text me when you get there",
    "grandma says you looked lovely in the photos",
    "I'll be home by 5, there's pasta in the fridge",
    "well done sweetheart, so proud of you",
]
CHAT = [
    "did you watch the match last night",
    "omg that new song is so good",
    "wanna play {game} later?",
    "what did you get for question 5",
    "lol same",
    "i'm going to {place} after school",
    "can't wait for the holidays",
    "my dog ate my sock lol",
    "are you coming to football?",
    "see you at {place} at 4",
    "that film was so good",
    "what are you doing at the weekend",
    "do you want to meet at {place} on saturday?",
    "let's hang out after school",
    "you're so good at drawing",
    "haha that's hilarious",
    "brb dinner",
    "i'm so hungry",
    "my mum said i can come",
    "happy birthday!!",
    "that test was so hard",
    "we should go to the cinema",
    "your hair looks nice today",
    "ok cool",
    "yeah same",
]
PEER_FLIRT = [
    "you're cute ngl",
    "do you like anyone?",
    "i like you",
    "wanna go to the cinema with me?",
    "you looked nice today",
    "are you going to the disco?",
]

# Further phrasings per label, written in other voices (more formal, more slang, other
# word orders); split between train and test like every other template list.
MORE_GROOMING: dict[str, list[str]] = {
    "grooming.flattery": [
        "You're so mature for your age",
        "You're really pretty",
        "You're different from other girls",
        "I feel like I can really talk to you",
        "You're special",
        "You're so grown up",
        "I really like talking to you",
        "You're my favourite person to talk to",
        "you're beautiful",
        "I care about you more than anyone",
        "nobody gets me like you do",
        "we're soulmates",
        "you're way more mature than girls your age",
        "I've never felt this way about anyone",
        "ur so pretty",
        "you're gorgeous",
        "you're more mature than your friends",
        "i really get you",
        "you're the only one who understands me",
        "you're amazing, seriously",
        "you're special to me",
        "nobody knows you like i do",
        "you're beautiful, inside and out",
        "you could be a model",
        "i've never clicked with someone like this",
        "you're wasted on boys your age",
        "you're so much cooler than other girls",
        "you're really mature",
        "no one gets me like you",
        "i think you're amazing",
        "you're honestly perfect",
        "i feel like we've known each other forever",
        "you're so pretty it's unreal",
        "i've never met a girl like you",
        "you're my everything",
        "you're too mature for the boys at your school",
    ],
    "grooming.gifts": [
        "I'll buy you something nice",
        "Do you want some Robux?",
        "I can get you a gift card",
        "I'll send you money",
        "I'll top up your phone",
        "Want a new phone?",
        "I bought you a present",
        "I can get you free skins",
        "I'll give you V-Bucks if you send a pic",
        "i'll pay for your nails",
        "I'll buy you whatever you want",
        "want me to buy you some robux?",
        "i'll send you £20",
        "i can get you anything you want",
        "I'll pay for your phone bill",
        "do you want a new ipad",
        "i could get you an xbox",
        "i got you a little something",
        "i'll send you vbucks if you send a pic back",
        "want some money?",
        "i can buy you those trainers you wanted",
        "i'll buy u anything",
        "want some free robux",
        "i've got a gift for you",
        "i can send you money on paypal",
        "you deserve nice things, let me buy you some",
        "let me top up your account",
        "i'll get you a new phone if you want",
        "i'll pay you £50",
        "i got you some vbucks",
        "i could buy you that game",
    ],
    "grooming.image_request": [
        "Can you send me a photo?",
        "Send me a selfie",
        "What do you look like?",
        "Show me what you're wearing",
        "Send a pic of your outfit",
        "I want to see you",
        "Can I see a picture of you?",
        "Send me one more pic",
        "Take a photo in the mirror for me",
        "video call me",
        "can you go on camera",
        "send me a picture",
        "got any pics?",
        "I'd love a photo of you",
        "send pic",
        "can i see u",
        "send me something",
        "show me more",
        "send me a picture of yourself",
        "got any more pics",
        "i want a photo of you",
        "take a selfie for me now",
        "show me ur face",
        "can u send a full body pic",
        "let me see what you're wearing",
        "send a pic in your school uniform",
        "switch your camera on",
        "send me a photo of u",
        "can i have a pic",
        "i wanna see what u look like",
        "show me a photo babe",
        "one more pic please",
        "take one for me",
        "show me your legs",
        "can you send me a video of you",
        "pic of you now?",
        "i need to see you, send a pic",
    ],
    "grooming.meeting": [
        "We should meet up sometime",
        "I could come and see you",
        "Where's a good place to meet near you?",
        "I'll come to your town",
        "Want to meet at the shopping centre on Saturday? Don't bring anyone",
        "I can pick you up",
        "I'd love to meet you in person",
        "Can you get out of the house without your parents knowing?",
        "Sneak out tonight",
        "lets meet up, just the two of us",
        "i want to meet you",
        "can i come round to yours when your parents are out",
        "we should meet",
        "when can i see you",
        "i could meet you after school",
        "let's meet somewhere quiet",
        "I'll drive to yours",
        "meet me at the bus stop at 8, don't tell anyone",
        "id love to meet u",
        "what about meeting this weekend",
        "come see me",
        "i'll wait for you at the corner",
        "i'm only 20 mins away, i could come get you",
        "lets meet up at the park, just you",
        "let's meet up soon",
        "i could meet you on saturday",
        "want to meet?",
        "i'm coming to your area tomorrow",
        "let me take you out",
        "we can meet at the station",
        "don't you want to meet me?",
        "i'll come and get you tonight",
        "meet up after school? just us",
        "i'll book us a hotel",
    ],
    "grooming.personal_probe": [
        "How old are you?",
        "Where do you live?",
        "What school do you go to?",
        "Are your parents around?",
        "Are you on your own?",
        "Do you have your own room?",
        "Do your parents check your phone?",
        "What time do you go to bed?",
        "Do you have a boyfriend?",
        "What year are you in?",
        "What's your real name?",
        "Who do you live with?",
        "how old r u",
        "whats ur age",
        "where abouts do u live",
        "are u alone",
        "how old r u",
        "u at school?",
        "which year are you",
        "where u from",
        "where do u live",
        "what street are you on",
        "are your parents home?",
        "whos in your house right now",
        "are you alone rn",
        "what school u go",
        "you got a bf?",
        "do your parents work late",
        "does your mum check your phone",
        "are you allowed out on your own",
        "what age are u",
        "are you at home rn",
        "do you live near the high street",
        "are you home on your own tonight",
        "where's your school",
        "what's your postcode",
        "who do you live with?",
        "is your mum there?",
        "are you still in primary?",
        "where do you hang out after school",
    ],
    "grooming.platform_move": [
        "Do you have Snapchat? It's easier to talk there",
        "Let's move this to WhatsApp",
        "I'm not on here much, can you message me on Insta?",
        "Can we talk on Discord instead?",
        "Give me your number and I'll text you",
        "What's your Snap?",
        "Download Telegram so we can chat properly",
        "Let's go private",
        "This app is rubbish, let's use something else",
        "Message me on my other account",
        "Have you got WhatsApp?",
        "Ping me on Kik",
        "I'll send you my number",
        "Can I call you?",
        "Do you use Signal?",
        "we can video chat on facetime",
        "what's your snapchat username",
        "drop your insta",
        "i'll add you on snap, what's your name on there",
        "u got snap?",
        "wats ur whatsapp",
        "better to chat on telegram tbh",
        "hit me up on insta x",
        "gimme ur digits",
        "lets take this to dms",
        "I'm going to delete my account here, add me on snapchat",
        "can you download kik",
        "lets talk on the phone",
        "call me tonight",
        "are you on snapchat or insta",
        "i'd rather chat on whatsapp, it's more private",
        "send me your snap and i'll add you",
        "do u have discord",
        "my number's 07723 456789 text me",
        "we can chat properly on snapchat",
        "I'm going to give you my number ok",
        "let's carry on this convo on whatsapp",
        "messages here get checked so use telegram",
        "have u got an insta i can follow",
        "i made a new account just for us to talk",
        "install wickr, its encrypted",
        "do you wanna switch apps",
        "what's your phone number hun",
        "let me have your whatsapp",
    ],
    "grooming.secrecy": [
        "Don't tell anyone we're talking",
        "This is our secret ok?",
        "Your parents wouldn't understand",
        "Make sure you delete this",
        "Keep this between us",
        "Don't show your mum these messages",
        "If anyone asks, say I'm a friend from school",
        "Nobody else needs to know",
        "You can't tell your friends about me",
        "promise you won't tell",
        "Don't let your parents see this",
        "Turn off your notifications so your mum doesn't see",
        "it's better if your parents don't know",
        "you'll get in trouble if you tell",
        "lets keep this to ourselves",
        "don't say anything to your parents ok",
        "this stays between us yeah",
        "you can't tell anyone about this",
        "our little secret x",
        "make sure your mum doesn't see these",
        "delete my messages after",
        "don't let anyone see our chat",
        "we need to keep this quiet",
        "no one can know about us",
        "they'd only try to stop us",
        "your mum would freak out if she knew, so don't tell her",
        "if your parents find out they'll take your phone so keep it quiet",
        "keep this off your main phone",
        "shhh dont say nothing",
        "whatever happens don't tell ur mum",
        "this is a secret you can't share",
        "our chats are just for us",
        "remember not to tell anyone about me",
        "it's best no one finds out about us",
        "you mustn't tell your parents",
        "if you tell anyone i'll get in trouble",
        "can you keep a secret?",
        "wipe your phone after we talk",
    ],
    "grooming.sexual": [
        "Have you ever kissed anyone?",
        "Are you a virgin?",
        "What are you wearing?",
        "You look hot",
        "I want to touch you",
        "Have you seen porn?",
        "send something naughty",
        "take something off for me",
        "have you ever had sex",
        "do you want to do something naughty",
        "do you sleep naked",
        "what colour is your underwear",
        "have you done stuff with boys",
        "i want to see you naked",
        "send me a sexy pic",
        "you'd look good in lingerie",
        "ever touched yourself",
        "i'm hard thinking about you",
        "wanna sext",
        "have u ever seen a willy",
        "do you wear a bra",
        "i want to see you with no clothes",
        "have you ever been touched",
        "what's your bra size",
        "you're so sexy",
        "i'm touching myself",
        "want to play a naughty game",
        "show me your boobs",
        "have you had your first kiss",
        "i want to do things to you",
    ],
}
MORE_SELF_HARM = [
    "I want to die",
    "I don't want to be alive anymore",
    "I've been cutting",
    "I hurt myself last night",
    "I feel like ending it",
    "I can't do this anymore",
    "nobody would care if I died",
    "thinking about suicide",
    "I keep thinking about killing myself",
    "I'm not going to be here much longer",
    "i'm done with life",
    "I feel so empty I just want it to stop",
    "i want to end my life",
    "i've got pills saved up",
    "im gonna end it tonight",
    "i cut again last night",
    "i don't see the point anymore",
    "i just want to sleep forever",
    "i want to end it",
    "i wanna kms",
    "i cant stop cutting",
    "i've thought about killing myself",
    "i want to die so bad",
    "i took too many tablets",
    "nobody would miss me",
    "im planning to end my life",
    "i feel like there's no way out",
    "i hurt myself on purpose",
    "i dont want to live anymore",
    "i've been thinking about suicide a lot",
    "i'm scared i'll do something to myself",
    "i wish i could just not exist",
    "tonight's the night i end it",
    "i want to disappear and never come back",
    "i don't think i can keep going",
    "i keep thinking about ending my life",
    "i've been hurting myself",
    "i'm going to take an overdose",
    "i tried to kill myself last year and i want to again",
    "i just want the pain to stop",
    "i've been cutting my wrists",
    "i want to jump off a bridge",
    "everyone would be happier if i was gone",
]
MORE_BULLYING = [
    "You're so ugly",
    "Nobody likes you",
    "Everyone hates you",
    "Go kill yourself",
    "You're a loser",
    "You're fat",
    "You should just die",
    "Leave our group",
    "I'll beat you up",
    "We're all laughing at you",
    "You're such a freak",
    "Your so stupid",
    "no one wants you here",
    "I'll tell everyone your secret",
    "we're going to share your photo",
    "you smell",
    "you're pathetic",
    "get lost, nobody wants you",
    "ur a fat cow",
    "shut up you ugly freak",
    "everyone thinks you're weird",
    "you're a joke",
    "no one will ever love you",
    "ur so fat",
    "no one likes u",
    "everyone hates u",
    "kill urself",
    "ur a loser",
    "ur ugly af",
    "nobody wants u here",
    "ur such a weirdo",
    "i'm gonna punch you",
    "we'll get you after school",
    "you're going to regret this",
    "i'll send everyone your pics",
    "go cry to your mum",
    "you're a waste of oxygen",
    "you don't belong here",
    "shut up fatty",
    "imagine being as ugly as you",
    "you're disgusting",
    "stop talking to us you freak",
    "you're literally nothing",
    "your such a loser lol no one likes you",
    "u r so fat",
    "everyone in our class hates you",
    "go and die",
    "ur a freak",
    "you're so ugly no one will ever date you",
    "i'll punch your face in",
    "we're gonna make your life hell",
    "you're a disgrace",
    "nobody wants to be your friend",
]
MORE_PRACTITIONER = [
    "Hi all, don't forget to bring £2 for the trip on Friday",
    "Please can you send me a picture of the signed permission slip",
    "The session is moving to the library this week, see you there at 5",
    "Well done on your GCSE results, you should be proud",
    "You can message me here if you need anything about the club",
    "I'll meet you all at the front of the school at 3:15 for the match",
    "Can you tell your mum I'll call her about the trip?",
    "Hi, it's Jodie from the club. Just checking you're ok after today?",
    "Please bring a photo ID for the trip",
    "The group chat is only for club stuff please",
    "Your mum mentioned you're having a tough time, I'm here if you want to chat at the session",
    "We meet every Tuesday at 6 in the church hall on Station Road",
    "Great to see you today, you did brilliantly in the debate",
    "Hi everyone, reminder the youth club trip is Saturday, meet at the centre at 9, bring a "
    "packed lunch",
    "Can you ask your mum to sign the consent form and send me a photo of it?",
    "Session tonight is at 6:30, we'll be in the sports hall at Oakwood Academy",
    "If you ever want to talk about anything, I'm here, or you can speak to any of the team",
    "Great work today, you're really talented at this",
    "Please don't share the group photos online without asking everyone first",
    "We'll meet at the train station at 8 for the trip, parents can drop you off",
]
MORE_FAMILY = [
    "don't forget your swimming kit, love you",
    "i'll get you a treat after the dentist",
    "you're so clever, well done on your spelling test",
    "who's at your house? is Dad home yet?",
    "send me a photo when you get to Nan's so I know you're safe",
    "are you in bed? it's late",
    "I'm picking you up at 4, wait by the gate",
    "keep it quiet from your sister, it's her birthday present",
    "who are you with? text me when you're home",
    "i bought you a present for being so good",
    "you're so beautiful, my clever girl",
    "don't tell dad but we're getting pizza",
    "can you send me a pic of the letter from school",
    "i'll pick you up at the station",
    "are you in your room? dinner's ready",
    "what time does your club finish? I'll pick you up",
    "you look beautiful sweetheart, have a great day",
    "Grandma sent you some money for your birthday, buy something nice",
    "Are you home yet? Text me when you're in",
    "Don't tell your brother, but we're getting a puppy!",
    "I'll buy you a new phone when yours breaks, promise",
    "can we video call later, nan wants to see you",
    "love you so much, you're my special girl",
]
MORE_PEER_BENIGN = [
    "dont tell mr smith but i didnt do the homework",
    "shh it's a surprise, don't tell her about the cake",
    "can u send me a pic of question 4",
    "i go to the same school as your cousin",
    "lol im dead",
    "i'm literally going to die if i fail this test",
    "you're so funny omg",
    "ur hair looks so nice today",
    "want to come round mine after school?",
    "my mum says you can sleep over on friday",
    "add me on roblox my user is coolkid123",
    "what's your fortnite name",
    "haha you're such a nerd",
    "i hate maths so much",
    "i'll kill you if you tell anyone about my crush lol",
    "send me the pics from the party!",
    "omg you look amazing in your prom dress",
    "I miss you so much, come back from holiday soon",
    "where do you want to meet, the park or the shops?",
    "are you going to Jess's party?",
    "my mum is so annoying, she took my phone",
    "i'm so tired i could sleep forever lol",
    "i feel sick, i'm not coming in tomorrow",
    "that film was so sad i cried",
    "i cut my finger making dinner lol",
    "we should make a group chat for the project",
    "you're my best friend, i love you",
    "stop being so dramatic lol",
    "the teacher said we're all going to see the video in assembly",
    "omg ur so pretty in ur new pfp",
    "dont tell anyone i got detention lol",
    "keep it secret, we're planning a surprise for sophie's birthday",
    "send me the answers for the science homework pls",
    "take a pic of the board for me",
    "i'm dying to see the new marvel film",
    "i hate my life lol my mum made me clean my room",
    "that test killed me",
    "i'll get you back for that prank haha",
    "you're so weird lol i love it",
    "want to meet at the cinema at 6?",
    "i'll buy you a drink at the cafe",
    "how old is your sister",
    "where do you live again? i forgot which house",
    "are you home? i'm outside",
    "call me when you can",
    "i feel so ugly today",
    "i'm so fat after that pizza lol",
    "nobody came to my party, i'm so sad",
    "this is so embarrassing i want to hide forever",
    "we should all meet up at the park tomorrow",
    "he's so annoying, i want to punch him lol",
    "i'll kill you if you spoil the ending",
    "my brother is a loser lol",
    "stop it you're making me cry laughing",
    "Can you send me a photo of your homework? I missed the lesson",
    "Don't tell Sophie about the party, it's a surprise!",
    "We're throwing a surprise party for Mr Jones, keep it secret",
    "My school is playing Oakwood High on Friday",
    "don't tell anyone but i fancy jamie",
    "lol I'm dying, that video",
    "this maths homework is going to kill me",
    "I'm going to murder you at Mario Kart",
    "add me on fortnite",
    "meet me at the park after school?",
    "send me a selfie of your new haircut!",
    "you're so pretty in that photo omg",
    "can we facetime later? i need help with the science",
    "delete that pic of me its so bad",
    "what time do you finish school tomorrow?",
    "how old is your brother?",
    "ugh i hate myself for forgetting my PE kit",
    "I want to die, this exam was so bad lol",
    "shut up you idiot haha",
    "you're so annoying",
    "nobody asked lol",
    "we should hang out this weekend",
    "my mum said we can go to the cinema, want to come?",
    "keep it between us but I think I got the lead in the play",
    "the new girl at Kingsway Academy is really nice",
    "I'm so stressed I could cry",
    "my cat died today, i'm so sad",
    "she said she's going to kill me if i'm late again lol",
    "I'll tell everyone the party's at mine",
    "did you see the video of the cat lol everyone's going to see it",
    "I'll beat you at chess tomorrow",
    "can i have your number for the group chat?",
    "what's your snap? we're making a group for the team",
]
for _indicator, _more in MORE_GROOMING.items():
    GROOMING[_indicator] += _more
SELF_HARM += MORE_SELF_HARM
BULLYING += MORE_BULLYING
PRACTITIONER += MORE_PRACTITIONER
FAMILY += MORE_FAMILY
CHAT += MORE_PEER_BENIGN
CHILD_DISCLOSURES += [
    "my number changed, it's 07700 900555 now",
    "im at oakwood academy too!",
    "my snap is lily_2011 add me",
]


def split_of(items: list[str], split: str) -> list[str]:
    """Every third entry is held out for test; the rest train."""
    return [t for i, t in enumerate(items) if (i % 3 == 2) == (split == "test")]


class Writer:
    """Draws one split's conversations from that split's templates."""

    def __init__(self, split: str, rng: random.Random) -> None:
        self.split, self.rng = split, rng

    def pick(self, items: list[str], **slots: str) -> str:
        text = self.rng.choice(split_of(items, self.split))
        return self.fill(text, **slots)

    def fill(self, text: str, **slots: str) -> str:
        values = {
            "game": self.rng.choice(GAMES),
            "school": self.rng.choice(SCHOOLS),
            "place": self.rng.choice(PLACES),
            "street": self.rng.choice(STREETS),
            "postcode": self.rng.choice(POSTCODES),
            "phone": self.rng.choice(PHONES),
            "handle": self.rng.choice(HANDLES),
            "email": self.rng.choice(EMAILS),
            "app": self.rng.choice(APPS),
            "gift": self.rng.choice(GIFTS),
            **slots,
        }
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)

    def noisy(self, text: str) -> str:
        """Chat spelling: not every message, never changing what it says."""
        rng = self.rng
        if rng.random() < 0.35:
            text = text.lower().replace("'", "")
        if rng.random() < 0.25:
            for plain, chat in (
                (r"\byou\b", "u"),
                (r"\byour\b", "ur"),
                (r"\bare\b", "r"),
                (r"\bplease\b", "pls"),
                (r"\bbecause\b", "cos"),
            ):
                text = re.sub(plain, chat, text)
        if rng.random() < 0.12:
            text = re.sub(r"([aeiou])\b", lambda m: m.group(1) * 3, text, count=1)
        if rng.random() < 0.08:
            words = text.split()
            long = [i for i, w in enumerate(words) if len(w) > 6 and w.isalpha()]
            if long:
                i = rng.choice(long)
                j = rng.randrange(2, len(words[i]) - 1)
                words[i] = words[i][:j] + words[i][j + 1 :]
                text = " ".join(words)
        return text


# Templates that say two things at once carry both labels, wherever they are drawn.
ALSO = {
    "I'll give you V-Bucks if you send a pic": ["grooming.image_request"],
    "i'll send you vbucks if you send a pic back": ["grooming.image_request"],
    "You look hot": ["grooming.flattery"],
    "you're so sexy": ["grooming.flattery"],
    "meet me at the bus stop at 8, don't tell anyone": ["grooming.secrecy"],
    "i want to see you with no clothes": ["grooming.image_request"],
    "i made a new account just for us to talk": ["grooming.secrecy"],
    "send me a pic without your top": ["grooming.sexual"],
    "send me a sexy pic": ["grooming.image_request"],
    "send a naked pic": ["grooming.image_request"],
}


def grooming(w: Writer, older_minor: bool = False) -> dict[str, Any]:
    rng = w.rng
    child, groomer = rng.choice(NAMES), rng.choice(ADULT_NAMES)
    band = rng.choice(["under_13", "13_15"]) if not older_minor else "under_13"
    people = {
        groomer: {"role": "young_person", "band": "16_17"}
        if older_minor
        else {"role": "adult", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    order = ["grooming.flattery", "grooming.personal_probe", "grooming.gifts",
             "grooming.secrecy", "grooming.platform_move", "grooming.image_request",
             "grooming.meeting", "grooming.sexual"]  # fmt: skip
    chosen = [i for i in order if rng.random() < {"grooming.sexual": 0.3}.get(i, 0.6)]
    while len(chosen) < 2:
        extra = rng.choice(order)
        if extra not in chosen:
            chosen.append(extra)
    chosen.sort(key=order.index)
    messages: list[Message] = [(groomer, w.pick(OPENERS), []), (child, w.pick(CHILD_REPLIES), [])]
    for indicator in chosen:
        labels = [indicator]
        text = w.pick(GROOMING[indicator])
        labels += ALSO.get(text, [])
        if rng.random() < 0.2:  # two indicators in one message
            other = rng.choice([i for i in chosen if i != indicator])
            second = w.pick(GROOMING[other])
            text = f"{text} {second}"
            labels += [other, *ALSO.get(second, [])]
        messages.append((groomer, text, labels))
        if rng.random() < 0.2 and indicator == "grooming.personal_probe":
            messages.append((child, w.pick(CHILD_DISCLOSURES), ["personal_info"]))
        else:
            messages.append((child, w.pick(CHILD_REPLIES), []))
    return conversation(people, messages, rng)


def self_harm(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child = rng.choice(NAMES)
    friend_is_staff = rng.random() < 0.3
    other = rng.choice(STAFF_NAMES) if friend_is_staff else rng.choice(NAMES)
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        child: {"role": "young_person" if band != "under_13" else "child", "band": band},
        other: {"role": "practitioner", "band": "18_plus"}
        if friend_is_staff
        else {"role": "young_person", "band": rng.choice(["13_15", "16_17"])},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(0, 3)):
        messages.append((child, w.pick(SAD_BENIGN + CHAT), []))
        messages.append((other, w.pick(CHAT if not friend_is_staff else CHILD_TO_STAFF), []))
    for _ in range(rng.randint(1, 3)):
        messages.append((child, w.pick(SELF_HARM), ["self_harm"]))
        messages.append((other, w.pick(SUPPORT), []))
    return conversation(people, messages, rng)


def bullying(w: Writer) -> dict[str, Any]:
    rng = w.rng
    victim, *bullies = rng.sample(NAMES, 3)
    band = rng.choice(["under_13", "13_15", "16_17"])
    role = "child" if band == "under_13" else "young_person"
    people = {n: {"role": role, "band": band} for n in (victim, *bullies)}
    messages: list[Message] = [(bullies[0], w.pick(CHAT), [])]
    for _ in range(rng.randint(1, 4)):
        messages.append((rng.choice(bullies), w.pick(BULLYING), ["bullying"]))
        if rng.random() < 0.6:
            messages.append((victim, w.pick(VICTIM_REPLIES), []))
    return conversation(people, messages, rng)


def peers(w: Writer, kind: str) -> dict[str, Any]:
    """Two or three minors: chat, banter, flirting, swapped details, homework, a party."""
    rng = w.rng
    names = rng.sample(NAMES, rng.choice([2, 2, 3]))
    band = rng.choice(["under_13", "13_15", "16_17"])
    role = "child" if band == "under_13" else "young_person"
    people = {n: {"role": role, "band": band} for n in names}
    pools: dict[str, list[str]] = {
        "chat": CHAT, "banter": BANTER + CHAT, "flirt": PEER_FLIRT + CHAT,
        "homework": HOMEWORK + CHAT, "surprise": SURPRISE + CHAT, "school": SCHOOL_PASSING + CHAT,
        "sad": SAD_BENIGN + CHAT, "details": CHAT,
    }  # fmt: skip
    messages: list[Message] = []
    for i in range(rng.randint(4, 10)):
        sender = names[i % len(names)]
        if kind == "details" and rng.random() < 0.35:
            messages.append((sender, w.pick(CHILD_DISCLOSURES), ["personal_info"]))
        else:
            messages.append((sender, w.pick(pools[kind]), []))
    if kind == "details" and not any(m[2] for m in messages):
        messages.append((names[0], w.pick(CHILD_DISCLOSURES), ["personal_info"]))
    return conversation(people, messages, rng)


def practitioner(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child, staff = rng.choice(NAMES), rng.choice(STAFF_NAMES)
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        staff: {"role": "practitioner", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(2, 5)):
        messages.append((staff, w.pick(PRACTITIONER, child=child, staff=staff), []))
        messages.append((child, w.pick(CHILD_TO_STAFF), []))
    return conversation(people, messages, rng)


def family(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child, parent = rng.choice(NAMES), rng.choice(["Mum", "Dad", "Nan", "Auntie Jo"])
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        parent: {"role": "guardian", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(2, 5)):
        messages.append((parent, w.pick(FAMILY), []))
        messages.append((child, w.pick(CHILD_TO_STAFF + CHAT), []))
    return conversation(people, messages, rng)


DETAILS = [
    *PHONES, *HANDLES, *EMAILS, *POSTCODES, *STREETS,
    "07700 900111", "deano_88", "07723 456789", "07700 900555", "lily_2011",
]  # fmt: skip


def conversation(
    people: dict[str, dict[str, str]], messages: list[Message], rng: random.Random
) -> dict[str, Any]:
    """Any message that carries a phone number, handle, email or address is personal_info,
    whoever sends it (a stranger's own number is both a platform move and a detail)."""
    labelled = []
    for sender, text, labels in messages:
        if any(d.lower() in text.lower() for d in DETAILS) and "personal_info" not in labels:
            labels = [*labels, "personal_info"]
        labelled.append((sender, text, labels))
    return {"participants": people, "messages": labelled}


def alert_from(people: dict[str, dict[str, str]], messages: list[Message]) -> int | None:
    """The labelling policy in the module docstring, applied to the labelled messages."""
    grooming_seen: set[str] = set()
    bullying_seen = 0
    for i, (sender, _, labels) in enumerate(messages):
        who = people[sender]
        risky_sender = (who["band"] == "18_plus" and who["role"] == "adult") or (
            who["band"] == "16_17" and any(p["band"] == "under_13" for p in people.values())
        )
        for label in labels:
            if label == "self_harm":
                return i
            if label == "bullying":
                bullying_seen += 1
                if bullying_seen >= 2:
                    return i
            if label.startswith("grooming.") and risky_sender:
                grooming_seen.add(label)
                strong = {"grooming.sexual", "grooming.image_request"}
                if len(grooming_seen) >= 2 or label in strong:
                    return i
    return None


MIX: list[tuple[float, Callable[[Writer], dict[str, Any]]]] = [
    (0.20, grooming),
    (0.04, lambda w: grooming(w, older_minor=True)),
    (0.12, self_harm),
    (0.12, bullying),
    (0.08, lambda w: peers(w, "details")),
    (0.08, practitioner),
    (0.07, family),
    (0.05, lambda w: peers(w, "surprise")),
    (0.06, lambda w: peers(w, "homework")),
    (0.05, lambda w: peers(w, "school")),
    (0.05, lambda w: peers(w, "banter")),
    (0.03, lambda w: peers(w, "flirt")),
    (0.03, lambda w: peers(w, "sad")),
    (0.02, lambda w: peers(w, "chat")),
]


def generate(split: str, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}-{split}")
    writer = Writer(split, rng)
    weights = [m[0] for m in MIX]
    out = []
    for n in range(count):
        make = rng.choices([m[1] for m in MIX], weights)[0]
        raw = make(writer)
        people, messages = raw["participants"], raw["messages"]
        out.append(
            {
                "id": f"{split}-{n:04d}",
                "participants": people,
                "messages": [
                    {"from": s, "text": writer.noisy(t), "labels": sorted(set(labels))}
                    for s, t, labels in messages
                ],
                "alert_from": alert_from(people, messages),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--train", type=int, default=420)
    parser.add_argument("--test", type=int, default=220)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for split, count in (("train", args.train), ("test", args.test)):
        path = args.out / f"{split}.jsonl"
        with path.open("w") as f:
            for c in generate(split, count, args.seed):
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(f"wrote {count} conversations to {path}")


if __name__ == "__main__":
    main()
