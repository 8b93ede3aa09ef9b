"""RSA blind signatures: the RFC 9474 test vectors, and the failures an issuer must refuse."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_crypto import blind_rsa


def _int(text: str) -> int:
    return int("".join(text.split()), 16)


@dataclass(frozen=True)
class Vector:
    variant: blind_rsa.Variant
    msg_prefix: bytes
    salt: bytes
    inv: bytes
    blinded_msg: bytes
    blind_sig: bytes
    sig: bytes


# RFC 9474 Appendix A (A.1-A.4), https://www.rfc-editor.org/rfc/rfc9474.html#name-test-vectors.
# Hex copied from cloudflare/circl blindsign/blindrsa/testdata/test_vectors_rfc9474.json (the
# RFC's values as JSON) and checked against the RFC text. One 4096-bit key and one message
# serve all four variants.
_P = _int(
    """
    e1f4d7a34802e27c7392a3cea32a262a34dc3691bd87f3f310dc756734889305
    59c120fd0410194fb8a0da55bd0b81227e843fdca6692ae80e5a5d414116d480
    3fca7d8c30eaaae57e44a1816ebb5c5b0606c536246c7f11985d731684150b63
    c9a3ad9e41b04c0b5b27cb188a692c84696b742a80d3cd00ab891f2457443dad
    feba6d6daf108602be26d7071803c67105a5426838e6889d77e8474b29244cef
    af418e381b312048b457d73419213063c60ee7b0d81820165864fef93523c963
    5c22210956e53a8d96322493ffc58d845368e2416e078e5bcb5d2fd68ae6acfa
    54f9627c42e84a9d3f2774017e32ebca06308a12ecc290c7cd1156dcccfb2311
    """
)
_Q = _int(
    """
    c601a9caea66dc3835827b539db9df6f6f5ae77244692780cd334a006ab353c8
    06426b60718c05245650821d39445d3ab591ed10a7339f15d83fe13f6a3dfb20
    b9452c6a9b42eaa62a68c970df3cadb2139f804ad8223d56108dfde30ba7d367
    e9b0a7a80c4fdba2fd9dde6661fc73fc2947569d2029f2870fc02d8325acf28c
    9afa19ecf962daa7916e21afad09eb62fe9f1cf91b77dc879b7974b490d3ebd2
    e95426057f35d0a3c9f45f79ac727ab81a519a8b9285932d9b2e5ccd347e59f3
    f32ad9ca359115e7da008ab7406707bd0e8e185a5ed8758b5ba266e8828f8d86
    3ae133846304a2936ad7bc7c9803879d2fc4a28e69291d73dbd799f8bc238385
    """
)
_N = _int(
    """
    aec4d69addc70b990ea66a5e70603b6fee27aafebd08f2d94cbe1250c556e047
    a928d635c3f45ee9b66d1bc628a03bac9b7c3f416fe20dabea8f3d7b4bbf7f96
    3be335d2328d67e6c13ee4a8f955e05a3283720d3e1f139c38e43e0338ad058a
    9495c53377fc35be64d208f89b4aa721bf7f7d3fef837be2a80e0f8adf0bcd1e
    ec5bb040443a2b2792fdca522a7472aed74f31a1ebe1eebc1f408660a0543dfe
    2a850f106a617ec6685573702eaaa21a5640a5dcaf9b74e397fa3af18a2f1b7c
    03ba91a6336158de420d63188ee143866ee415735d155b7c2d854d795b7bc236
    cffd71542df34234221a0413e142d8c61355cc44d45bda94204974557ac2704c
    d8b593f035a5724b1adf442e78c542cd4414fce6f1298182fb6d8e53cef1adfd
    2e90e1e4deec52999bdc6c29144e8d52a125232c8c6d75c706ea3cc06841c7bd
    a33568c63a6c03817f722b50fcf898237d788a4400869e44d90a3020923dc646
    388abcc914315215fcd1bae11b1c751fd52443aac8f601087d8d42737c18a3fa
    11ecd4131ecae017ae0a14acfc4ef85b83c19fed33cfd1cd629da2c4c09e222b
    398e18d822f77bb378dea3cb360b605e5aa58b20edc29d000a66bd177c682a17
    e7eb12a63ef7c2e4183e0d898f3d6bf567ba8ae84f84f1d23bf8b8e261c3729e
    2fa6d07b832e07cddd1d14f55325c6f924267957121902dc19b3b32948bdead5
    """
)
_MSG = bytes.fromhex(
    "8f3dc6fb8c4a02f4d6352edf0907822c1210a9b32f9bdda4c45a698c80023aa6b59f8cfec5fdbb36331372ebefedae7d"
)
_VECTORS = (
    Vector(
        variant=blind_rsa.RSABSSA_SHA384_PSS_RANDOMIZED,
        msg_prefix=bytes.fromhex(
            """
            8417e699b219d583fb6216ae0c53ca0e9723442d02f1d1a34295527e7d929e8b
            """
        ),
        salt=bytes.fromhex(
            """
            051722b35f458781397c3a671a7d3bd3096503940e4c4f1aaa269d60300ce449
            555cd7340100df9d46944c5356825abf
            """
        ),
        inv=bytes.fromhex(
            """
            80682c48982407b489d53d1261b19ec8627d02b8cda5336750b8cee332ae260d
            e57b02d72609c1e0e9f28e2040fc65b6f02d56dbd6aa9af8fde656f70495dfb7
            23ba01173d4707a12fddac628ca29f3e32340bd8f7ddb557cf819f6b01e445ad
            96f874ba235584ee71f6581f62d4f43bf03f910f6510deb85e8ef06c7f09d979
            4a008be7ff2529f0ebb69decef646387dc767b74939265fec0223aa6d84d2a8a
            1cc912d5ca25b4e144ab8f6ba054b54910176d5737a2cff011da431bd5f2a0d2
            d66b9e70b39f4b050e45c0d9c16f02deda9ddf2d00f3e4b01037d7029cd49c2d
            46a8e1fc2c0c17520af1f4b5e25ba396afc4cd60c494a4c426448b35b49635b3
            37cfb08e7c22a39b256dd032c00adddafb51a627f99a0e1704170ac1f1912e49
            d9db10ec04c19c58f420212973e0cb329524223a6aa56c7937c5dffdb5d966b6
            cd4cbc26f3201dd25c80960a1a111b32947bb78973d269fac7f5186530930ed1
            9f68507540eed9e1bab8b00f00d8ca09b3f099aae46180e04e3584bd7ca054df
            18a1504b89d1d1675d0966c4ae1407be325cdf623cf13ff13e4a28b594d59e3e
            adbadf6136eee7a59d6a444c9eb4e2198e8a974f27a39eb63af2c9af3870488b
            8adaad444674f512133ad80b9220e09158521614f1faadfe8505ef57b7df6813
            048603f0dd04f4280177a11380fbfc861dbcbd7418d62155248dad5fdec0991f
            """
        ),
        blinded_msg=bytes.fromhex(
            """
            aa3ee045138d874669685ffaef962c7694a9450aa9b4fd6465db9b3b75a522bb
            921c4c0fdcdfae9667593255099cff51f5d3fd65e8ffb9d3b3036252a6b51b6e
            dfb3f40382b2bbf34c0055e4cbcc422850e586d84f190cd449af11dc65545f5f
            e26fd89796eb87da4bda0c545f397cddfeeb56f06e28135ec74fd477949e7677
            f6f36cfae8fd5c1c5898b03b9c244cf6d1a4fb7ad1cb43aff5e80cb462fac541
            e72f67f0a50f1843d1759edfaae92d1a916d3f0efaf4d650db416c3bf8abdb54
            14a78cebc97de676723cb119e77aea489f2bbf530c440ebc5a75dccd3ebf5a41
            2a5f346badd61bee588e5917bdcce9dc33c882e39826951b0b8276c620397194
            7072b726e935816056ff5cb11a71ca2946478584126bb877acdf87255f26e6cc
            a4e0878801307485d3b7bb89b289551a8b65a7a6b93db010423d1406e149c877
            31910306e5e410b41d4da3234624e74f92845183e323cf7eb244f212a695f885
            6c675fbc3a021ce649e22c6f0d053a9d238841cf3afdc2739f99672a419ae13c
            17f1f8a3bc302ec2e7b98e8c353898b7150ad8877ec841ea6e4b288064c254fe
            fd0d049c3ad196bf7ffa535e74585d0120ce728036ed500942fbd5e6332c298f
            1ffebe9ff60c1e117b274cf0cb9d70c36ee4891528996ec1ed0b178e9f3c0c0e
            6120885f39e8ccaadbb20f3196378c07b1ff22d10049d3039a7a92fe7efdd95d
            """
        ),
        blind_sig=bytes.fromhex(
            """
            3f4a79eacd4445fca628a310d41e12fcd813c4d43aa4ef2b81226953248d6d00
            adfee6b79cb88bfa1f99270369fd063c023e5ed546719b0b2d143dd1bca46b0e
            0e615fe5c63d95c5a6b873b8b50bc52487354e69c3dfbf416e7aca18d5842c89
            b676efdd38087008fa5a810161fcdec26f20ccf2f1e6ab0f9d2bb93e051cb9e8
            6a9b28c5bb62fd5f5391379f887c0f706a08bcc3b9e7506aaf02485d688198f5
            e22eefdf837b2dd919320b17482c5cc54271b4ccb41d267629b3f844fd63750b
            01f5276c79e33718bb561a152acb2eb36d8be75bce05c9d1b94eb609106f3822
            6fb2e0f5cd5c5c39c59dda166862de498b8d92f6bcb41af433d65a2ac23da87f
            39764cb64e79e74a8f4ce4dd567480d967cefac46b6e9c06434c371563583435
            7edd2ce6f105eea854ac126ccfa3de2aac5607565a4e5efaac5eed491c335f6f
            c97e6eb7e9cea3e12de38dfb315220c0a3f84536abb2fdd722813e083feda010
            391ac3d8fd1cd9212b5d94e634e69ebcc800c4d5c4c1091c64afc37acf563c7f
            c0a6e4c082bc55544f50a7971f3fb97d5853d72c3af34ffd5ce123998be5360d
            1059820c66a81e1ee6d9c1803b5b62af6bc877526df255b6d1d835d8c840bebb
            cd6cc0ee910f17da37caf8488afbc08397a1941fcc79e76a5888a95b3d5405e1
            3f737bea5c78d716a48eb9dc0aec8de39c4b45c6914ad4a8185969f70b1adf46
            """
        ),
        sig=bytes.fromhex(
            """
            191e941c57510e22d29afad257de5ca436d2316221fe870c7cb75205a6c071c2
            735aed0bc24c37f3d5bd960ab97a829a508f966bbaed7a82645e65eadaf24ab5
            e6d9421392c5b15b7f9b640d34fec512846a3100b80f75ef51064602118c1a77
            d28d938f6efc22041d60159a518d3de7c4d840c9c68109672d743d299d8d2577
            ef60c19ab463c716b3fa75fa56f5735349d414a44df12bf0dd44aa3e10822a65
            1ed4cb0eb6f47c9bd0ef14a034a7ac2451e30434d513eb22e68b7587a8de9b4e
            63a059d05c8b22c7c51e2cfee2d8bef511412e93c859a13726d87c57d1bc4c2e
            68ab121562f839c3a3d233e87ed63c69b7e57525367753fbebcc2a9805a28026
            59f5888b2c69115bf865559f10d906c09d048a0d71bfee4b33857393ec2b69e4
            51433496d02c9a7910abb954317720bbde9e69108eafc3e90bad3d5ca4066d7b
            1e49013fa04e948104a1dd82b12509ecb146e948c54bd8bfb5e6d18127cd1f7a
            93c3cf9f2d869d5a78878c03fe808a0d799e910be6f26d18db61c485b303631d
            3568368fc41986d08a95ea6ac0592240c19d7b22416b9c82ae6241e211dd5610
            d0baaa9823158f9c32b66318f5529491b7eeadcaa71898a63bac9d95f4aa548d
            5e97568d744fc429104e32edd9c87519892a198a30d333d427739ffb9607b092
            e910ae37771abf2adb9f63bc058bf58062ad456cb934679795bbdfcdfad5e0f2
            """
        ),
    ),
    Vector(
        variant=blind_rsa.RSABSSA_SHA384_PSSZERO_RANDOMIZED,
        msg_prefix=bytes.fromhex(
            """
            84ea86c8cf3beedfed73beceabd792027c609d1100bf041fdd60d826a718130d
            """
        ),
        salt=bytes.fromhex(""),
        inv=bytes.fromhex(
            """
            80682c48982407b489d53d1261b19ec8627d02b8cda5336750b8cee332ae260d
            e57b02d72609c1e0e9f28e2040fc65b6f02d56dbd6aa9af8fde656f70495dfb7
            23ba01173d4707a12fddac628ca29f3e32340bd8f7ddb557cf819f6b01e445ad
            96f874ba235584ee71f6581f62d4f43bf03f910f6510deb85e8ef06c7f09d979
            4a008be7ff2529f0ebb69decef646387dc767b74939265fec0223aa6d84d2a8a
            1cc912d5ca25b4e144ab8f6ba054b54910176d5737a2cff011da431bd5f2a0d2
            d66b9e70b39f4b050e45c0d9c16f02deda9ddf2d00f3e4b01037d7029cd49c2d
            46a8e1fc2c0c17520af1f4b5e25ba396afc4cd60c494a4c426448b35b49635b3
            37cfb08e7c22a39b256dd032c00adddafb51a627f99a0e1704170ac1f1912e49
            d9db10ec04c19c58f420212973e0cb329524223a6aa56c7937c5dffdb5d966b6
            cd4cbc26f3201dd25c80960a1a111b32947bb78973d269fac7f5186530930ed1
            9f68507540eed9e1bab8b00f00d8ca09b3f099aae46180e04e3584bd7ca054df
            18a1504b89d1d1675d0966c4ae1407be325cdf623cf13ff13e4a28b594d59e3e
            adbadf6136eee7a59d6a444c9eb4e2198e8a974f27a39eb63af2c9af3870488b
            8adaad444674f512133ad80b9220e09158521614f1faadfe8505ef57b7df6813
            048603f0dd04f4280177a11380fbfc861dbcbd7418d62155248dad5fdec0991f
            """
        ),
        blinded_msg=bytes.fromhex(
            """
            4c1b82d9b97b968b2ce0754e326abd49e3d723ed937d84bead34b6a834483b43
            d510bf62ca47683ed366d94d3d357b270a85cf2cc2ddd171141b45d7549d5373
            cf67d14f6f462c14ebded906793144faba37f129c0f3172854ec0f854e555552
            eec5a30c87788f1039814594f04348709e26a883be82affff207b1886b75c037
            f43f847f45d89bcbf210c22ffcdf8118ce8a526b3723e6209c26319f8f5d2adc
            f0b637031c9fdf53470a915c587e30287ba88ed4f1cd5e93cf3d4990acf31fff
            dbfddec80ae0b728d5b4c612a396fd81acaa65566a4dc1c24624f44fd10cdba0
            5f3d0bed2e69bb0d13d41a9f1b4e67aa566520778733ced5e6260f4d1982f63b
            b835442acffe3cb87f5f8ec6bb84226e0eab787159d08e57604b13557ceea97f
            2c4ad0631accf898f302df86f0b64354ec0b3bdf1b4e2a4deb4d38f655ea8d80
            de4cc19aa06ffcd56e348faf894c8774c53235ddcc152d80cf66b417eee4d182
            781bab8c979937a3c7502d8f39c57c4f09884de5a7247f2539910a96e4b15f9a
            3df88edc21a13030af357467a99dca50dba4afe4a6185a240ac8f1d8aab2e834
            43025f94e1af930f56f78661369cc6790701f31b83aec40f96a72c7f7ba13b4e
            bdd8e24e7351f4ffba0a7c072cb28f13aff06cd02368491044fcc536213b2e3b
            1cf6ca81cf2097b7b19d2b36bd246f390f53768f1c2e56113ea91b33c7cfa647
            """
        ),
        blind_sig=bytes.fromhex(
            """
            4894f64d7214c216282d9842cbf7e7cccd9c0dcb1f4294a6bdeccd4c4c244616
            0d7cac7892f01b70dfa69f533891d2fbb447f7cf7541d1b504a2d46fc1bb6de2
            6b345972aada8ebce280b906f3a10a13208f77ef896fbe6bc4504327fd4c5c8f
            03211d45ae9672e9f4be0f4900762ba2a7177a58b90d6dd1263faf2b7a5f15d5
            0a7b00e733742c1b6a1ea4eb5fbfb407abf14496ab26b50cf1a5a56dea616b7a
            6a5595777400571a751c682b9fdd6badb3f72292f314f4ba2ba0f394f91676a4
            bb12e60ea08c977f7082be6357c1ca82fe3301fe5fb4128609bee2410db0481a
            ea3a5737fb0bce9381272c2202644f662e99f64bf1190d66e230cc0371ec33fe
            32fe725dfd872041914d39462a909414a780c9aab394af443199eba56c83986d
            22d57d4421b41ff8e5bec537d271223adb34d26c64989048a88d8f352a06a7cc
            153e216a6bed9548bb38d2a1600b2f3403289df6df74aec525ef9e413b7140a7
            c1a914dedd74a336f1beed39a8e5e2cef76cac094df0dbb3fa55d4b7ee781c74
            bed3bd8bc7aa6ef3f1dbfa4674945720ec93dafa6d0650229ab75e3fae687327
            fac081cf4bb376e02a2b73314c54c12f88572c28980f13aba5731bc5a3a60575
            ea116c8ea2fe5009168deb1255026c9310783ff7f644255d3e1691e194db1bab
            d7780b9a5dc0cb3de2b700d12f49cbe4db51ca2f3c8a58b09e854cc71e8070ab
            """
        ),
        sig=bytes.fromhex(
            """
            195363ba25e4bf763f6538c86865785f93f4ea6092da3ad200d41b99eb0eb086
            9fa792df619fd8fa5923d5d03d5882faae6d25054118deef5e4a6a252dd5afb0
            dac262b74c391090b1575fbafd959d26bc294f47fb45a2c1c209932c4f94b243
            94eded91fbdd015e1a85dde63c9e77a0283f812cad1192d86432c51331e46fd4
            f3771bbafb929f847a19cb05e5f79b6b519d67e8f005951e53656be97cb612d2
            f506618b366403b34648451d6fbc7318c2f3f583cc6fa17bf2108398f9284e06
            02187904406a9322f1e7b8016ca9ad11b835756df862c465c420535e25faa48b
            f341f7ee8192be47fa875791f32f56d5e631d237060688f052426dee5b0b2b74
            ca5f830e82a453379eedb541fa4fcdaa19dae6509401e3cdd4c40f5c9243db3f
            6d7115c4e8cd6db8290723ab01d9d0d7e355a97a01547800e43f11736668c3f8
            908848d759c33a67a2f506abc3f6871cbe625b1bc71eb06d785a59501396712c
            581a60d6ccc450d2f4eb4cf08ae0dbfa45c2860425be90cc4cd4c989495bbd29
            63e19c59ae5d90d1ca884e80d654b5f2cd6a80c3588b514ee91c802736f594c3
            40397b316a97e9c70b0609955b6c3ee06f4760d9377f0797a0411a244db395bb
            8b711ef79fbcb5589226174029be79a72dcd6f4ca566b7b1b9a27e43b5c02a9a
            579d60bdda183398d66d76e0e8eceb1af2f27633589d043bcdc041683b31f7f1
            """
        ),
    ),
    Vector(
        variant=blind_rsa.RSABSSA_SHA384_PSS_DETERMINISTIC,
        msg_prefix=bytes.fromhex(""),
        salt=bytes.fromhex(
            """
            051722b35f458781397c3a671a7d3bd3096503940e4c4f1aaa269d60300ce449
            555cd7340100df9d46944c5356825abf
            """
        ),
        inv=bytes.fromhex(
            """
            80682c48982407b489d53d1261b19ec8627d02b8cda5336750b8cee332ae260d
            e57b02d72609c1e0e9f28e2040fc65b6f02d56dbd6aa9af8fde656f70495dfb7
            23ba01173d4707a12fddac628ca29f3e32340bd8f7ddb557cf819f6b01e445ad
            96f874ba235584ee71f6581f62d4f43bf03f910f6510deb85e8ef06c7f09d979
            4a008be7ff2529f0ebb69decef646387dc767b74939265fec0223aa6d84d2a8a
            1cc912d5ca25b4e144ab8f6ba054b54910176d5737a2cff011da431bd5f2a0d2
            d66b9e70b39f4b050e45c0d9c16f02deda9ddf2d00f3e4b01037d7029cd49c2d
            46a8e1fc2c0c17520af1f4b5e25ba396afc4cd60c494a4c426448b35b49635b3
            37cfb08e7c22a39b256dd032c00adddafb51a627f99a0e1704170ac1f1912e49
            d9db10ec04c19c58f420212973e0cb329524223a6aa56c7937c5dffdb5d966b6
            cd4cbc26f3201dd25c80960a1a111b32947bb78973d269fac7f5186530930ed1
            9f68507540eed9e1bab8b00f00d8ca09b3f099aae46180e04e3584bd7ca054df
            18a1504b89d1d1675d0966c4ae1407be325cdf623cf13ff13e4a28b594d59e3e
            adbadf6136eee7a59d6a444c9eb4e2198e8a974f27a39eb63af2c9af3870488b
            8adaad444674f512133ad80b9220e09158521614f1faadfe8505ef57b7df6813
            048603f0dd04f4280177a11380fbfc861dbcbd7418d62155248dad5fdec0991f
            """
        ),
        blinded_msg=bytes.fromhex(
            """
            10c166c6a711e81c46f45b18e5873cc4f494f003180dd7f115585d871a289302
            59654fe28a54dab319cc5011204c8373b50a57b0fdc7a678bd74c523259dfe4f
            d5ea9f52f170e19dfa332930ad1609fc8a00902d725cfe50685c95e5b2968c9a
            2828a21207fcf393d15f849769e2af34ac4259d91dfd98c3a707c509e1af5564
            7efaa31290ddf48e0133b798562af5eabd327270ac2fb6c594734ce339a14ea4
            fe1b9a2f81c0bc230ca523bda17ff42a377266bc2778a274c0ae5ec5a8cbbe36
            4fcf0d2403f7ee178d77ff28b67a20c7ceec009182dbcaa9bc99b51ebbf13b7d
            542be337172c6474f2cd3561219fe0dfa3fb207cff89632091ab841cf38d8aa8
            8af6891539f263adb8eac6402c41b6ebd72984e43666e537f5f5fe27b2b5aa11
            4957e9a580730308a5f5a9c63a1eb599f093ab401d0c6003a451931b6d124180
            305705845060ebba6b0036154fcef3e5e9f9e4b87e8f084542fd1dd67e7782a5
            585150181c01eb6d90cb95883837384a5b91dbb606f266059ecc51b5acbaa280
            e45cfd2eec8cc1cdb1b7211c8e14805ba683f9b78824b2eb005bc8a7d7179a36
            c152cb87c8219e5569bba911bb32a1b923ca83de0e03fb10fba75d85c55907dd
            a5a2606bf918b056c3808ba496a4d95532212040a5f44f37e1097f26dc27b98a
            51837daa78f23e532156296b64352669c94a8a855acf30533d8e0594ace7c442
            """
        ),
        blind_sig=bytes.fromhex(
            """
            364f6a40dbfbc3bbb257943337eeff791a0f290898a6791283bba581d9eac90a
            6376a837241f5f73a78a5c6746e1306ba3adab6067c32ff69115734ce014d354
            e2f259d4cbfb890244fd451a497fe6ecf9aa90d19a2d441162f7eaa7ce3fc4e8
            9fd4e76b7ae585be2a2c0fd6fb246b8ac8d58bcb585634e30c9168a434786fe5
            e0b74bfe8187b47ac091aa571ffea0a864cb906d0e28c77a00e8cd8f6aba4317
            a8cc7bf32ce566bd1ef80c64de041728abe087bee6cadd0b7062bde5ceef308a
            23bd1ccc154fd0c3a26110df6193464fc0d24ee189aea8979d722170ba945fdc
            ce9b1b4b63349980f3a92dc2e5418c54d38a862916926b3f9ca270a8cf40dfb9
            772bfbdd9a3e0e0892369c18249211ba857f35963d0e05d8da98f1aa0c6bba58
            f47487b8f663e395091275f82941830b050b260e4767ce2fa903e75ff8970c98
            bfb3a08d6db91ab1746c86420ee2e909bf681cac173697135983c3594b2def67
            3736220452fde4ddec867d40ff42dd3da36c84e3e52508b891a00f50b4f62d11
            2edb3b6b6cc3dbd546ba10f36b03f06c0d82aeec3b25e127af545fac28e1613a
            0517a6095ad18a98ab79f68801e05c175e15bae21f821e80c80ab4fdec6fb34c
            a315e194502b8f3dcf7892b511aee45060e3994cd15e003861bc7220a2babd7b
            40eda03382548a34a7110f9b1779bf3ef6011361611e6bc5c0dc851e1509de1a
            """
        ),
        sig=bytes.fromhex(
            """
            6fef8bf9bc182cd8cf7ce45c7dcf0e6f3e518ae48f06f3c670c649ac737a8b81
            19a34d51641785be151a697ed7825fdfece82865123445eab03eb4bb91cecf4d
            6951738495f8481151b62de869658573df4e50a95c17c31b52e154ae26a04067
            d5ecdc1592c287550bb982a5bb9c30fd53a768cee6baabb3d483e9f1e2da954c
            7f4cf492fe3944d2fe456c1ecaf0840369e33fb4010e6b44bb1d721840513524
            d8e9a3519f40d1b81ae34fb7a31ee6b7ed641cb16c2ac999004c2191de020145
            7523f5a4700dd649267d9286f5c1d193f1454c9f868a57816bf5ff76c838a2ee
            b616a3fc9976f65d4371deecfbab29362caebdff69c635fe5a2113da4d4d8c24
            f0b16a0584fa05e80e607c5d9a2f765f1f069f8d4da21f27c2a3b5c984b4ab24
            899bef46c6d9323df4862fe51ce300fca40fb539c3bb7fe2dcc9409e425f2d3b
            95e70e9c49c5feb6ecc9d43442c33d50003ee936845892fb8be475647da9a080
            f5bc7f8a716590b3745c2209fe05b17992830ce15f32c7b22cde755c8a2fe50b
            d814a0434130b807dc1b7218d4e85342d70695a5d7f29306f25623ad1e8aa08e
            f71b54b8ee447b5f64e73d09bdd6c3b7ca224058d7c67cc7551e9241688ada12
            d859cb7646fbd3ed8b34312f3b49d69802f0eaa11bc4211c2f7a29cd5c01ed01
            a39001c5856fab36228f5ee2f2e1110811872fe7c865c42ed59029c706195d52
            """
        ),
    ),
    Vector(
        variant=blind_rsa.RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
        msg_prefix=bytes.fromhex(""),
        salt=bytes.fromhex(""),
        inv=bytes.fromhex(
            """
            55f2053e9a4309ac61ac4da7f3a314e626f362e95f30337962d12f08b343165c
            8dea34d7812dc2dcb227cfa8de49bca57880ac55f6d77b37ed83a32eb33656dd
            f0cde29761aef9f86bd758280b3403a63b466831cba4c97e17e9a11e4139f9d8
            4e5912b017eafbafdbb3ae59a1424feae6914eb1bf20922c6db5da8a538752b3
            b662ae15cae7beac9a0362b8836001c57b0c5167dceb9a66e6ab6a90e9898646
            b4274c3662e4316926c4da7caf5aeff611934b70581280ec68fb2ce04c5681ef
            95b086b7289afae8ecd669325659791853a9f4c0b784f6f60b212c3b39754d55
            39e3671d7930d1272e82b3853b6583a83d9ff70c00ce1938c05eccee531cb075
            564059b2749e84b45dff7d179c69c86c5d1870aeffd6281d099838a3a988ff9e
            2684f6cc896b5326275309187d9e3558163131e4d247c2ec8317a2c09f8079d3
            2db8241c869bc5f773722ed8e68bfa5c518d20b955abf02103fce1a025149b14
            670fdfc8a3f0089516db047f86b9be626ff44989d6fcc162c9570da5b862b473
            04eca2aceba4dedd6a672458aae779004fe116009600a6a52eb6161a3d09fda0
            9963b56f2870a150df7183bfa03ce735513e637631fb4f980657a8cdb953b215
            6594607f8ebf7de6999626197072afd7ff60a5d2f782dabe026e0f298df141b8
            a276aaf7202d959088d7721786b04c79e45c807eb46fcf3a94031ef351aff644
            """
        ),
        blinded_msg=bytes.fromhex(
            """
            0c86f078fe8fd2ea6b4e120d3fef7555701a7c6b7bd5606a7fb2ef2769d119f2
            639477a7904984d67f0ecf419059aac58041977871d8da253a1aee14cde49cfb
            919f502f4d79d56d473a95f450982ad83398c1f3dd3a3342a18df9e81447998e
            ae6c7f9de94148a30de0846fc2402b17b2dfe233c450ba41f141ec14b27bf4e7
            d79a5c0fa23ad64c2d2fa33691a3048d835f7e477ecba458e4d58f8dbbcfec2a
            484e1442ab4b266cfc610fec95f6258ef137590254931dea30f58e96a64cef7a
            ca013cb037259d4dec8a2298d3e2ce96c75a10f39dcdfe7e90eba200c73fc3f5
            fbbdc4d50d33990559504d0ddb4fe50407fc21321128f72866c780d1412f20d4
            788ad0ebc2077dca4ae87108e416c3510609867196f4fbb69ff6c3a4c0249e3d
            6bcf157636666a0e17d8dba9034d9875e40bbff075b0a936acd75baf15179042
            959d6b27f8e233b60db93a2abce81f47e259f76b5a68d58c21fd8ccd7e102fc9
            292ec5a1bad8618a94f09ca6a58b1c5c7062fb17bd62035d898b76ead5f52a98
            69d5b6fbbbf5cd07bc3c35adbff4f03949fe32b455cd5b3de07859d65045b72f
            b1f4a0ab5c80a27a60b57ebd9e0b173778d3be592e74cdc6a9ffa147cbb021a8
            7b9a525bc9135114d4daacf0b111773551474ea98493ed8562dac1c9e6398ada
            60573ff550a01aa4468fd493fb69b3a98ab3790fc7f71ef5dfa3f1979ebe35af
            """
        ),
        blind_sig=bytes.fromhex(
            """
            5ca77254ce107e6e6eedcf8ca03e08d4e92eeb0f4f08b2a2e7fb69da2f5db95f
            2167ce58a861e45a5cac1bf7d3df3edd64a2802bb5c16ceb62b2f5a0355c0d0f
            6d8270b658fa26e86afc18a88e91b0ec07e813d50ed4fb20376bf8470179a3a9
            7d5a29f9f9fe931d6bff233c45d62cd91cdb9a692cda309fad962fd9f7f19f89
            cc48bc75f9b521aeca21921330c7e91ff7ff2af6e62fe3112f7ec675e866c596
            1556a1796f2fd4707dd9fcde702caf003b5acfde1cd97bc5d2a63d126ac0587b
            f8ed6a3064d20dbdef9e207423e678f36e516e4c2696cc74f0a74be4c3ddaaf6
            cdbc95c9d58d930f0f4e00dfa2bf5d0a333964ec03226073030b9b78210d3160
            ec2722abf3c01efa1636a28c6c5ac9d14913537322ee42d26ab26518ec2af032
            02ea0e190a4790b7a8951be98313000c62d1fe0ea05647c451348f97ef5ced6c
            6e83303aececcc508fcc8f18f7751e050f9f7a562f45b0d03159486d067ab4b3
            df1b0f270d009436f0305640929a2b61cfeef24a2e39a9a622c9d9d9e2c99245
            ea415243f472b226e068ebba7624ccf012b86b21d80cb2e3b718224b2f7b638a
            16b7665a1a493b014dd3d0f7b97ca290665b1f0972bc4a7d4051e843182771b6
            258d9d63f919fde109f8487f443ea54518c053acfbf7c0cfe60435b6966d42c0
            34cf6ad3be2281fa2bf1a90f1d2cba55643e9ae37065a7534f53402e6f4c2a3a
            """
        ),
        sig=bytes.fromhex(
            """
            4454b6983ff01cb28545329f394936efa42ed231e15efbc025fdaca00277acf0
            c8e00e3d8b0ecebd35b057b8ebfc14e1a7097368a4abd20b555894ccef3d1b95
            28c6bcbda6b95376bef230d0f1feff0c1064c62c60a7ae7431d1fdfa43a81eed
            9235e363e1ffa0b2797aba6aad6082fcd285e14fc8b71de6b9c87cb4059c7dc1
            e96ae1e63795a1e9af86b9073d1d848aef3eca8a03421bcd116572456b53bcfd
            4dabb0a9691f1fabda3ed0ce357aee2cfee5b1a0eb226f69716d4e011d96eede
            5e38a9acb531a64336a0d5b0bae3ab085b658692579a376740ff6ce69e89b06f
            360520b864e33d82d029c808248a19e18e31f0ecd16fac5cd4870f8d3ebc1c32
            c718124152dc905672ab0b7af48bf7d1ac1ff7b9c742549c91275ab105458ae3
            7621757add83482bbcf779e777bbd61126e93686635d4766aedf5103cf7978f3
            856ccac9e28d21a850dbb03c811128616d315d717be1c2b6254f8509acae8620
            42c034530329ce15ca2e2f6b1f5fd59272746e3918c748c0eb810bf76884fa10
            fcf749326bbfaa5ba285a0186a22e4f628dbf178d3bb5dc7e165ca73f6a55ecc
            14c4f5a26c4693ce5da032264cbec319b12ddb9787d0efa4fcf1e5ccee35ad85
            ecd453182df9ed735893f830b570faae8be0f6fe2e571a4e0d927cba4debd368
            d3b4fca33ec6251897a137cf75474a32ac8256df5e5ffa518b88b43fb6f63a24
            """
        ),
    ),
)


def _pinned(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that hands out exactly these chunks, in order, and no more."""
    queue = list(chunks)

    def take(length: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == length, f"asked for {length} random bytes, vector has {len(chunk)}"
        return chunk

    return take


@pytest.fixture(scope="module")
def vector_key() -> blind_rsa.PrivateKey:
    return blind_rsa.PrivateKey.from_primes(_P, _Q)


@pytest.fixture(scope="module")
def key() -> blind_rsa.PrivateKey:
    return blind_rsa.PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key() -> blind_rsa.PrivateKey:
    return blind_rsa.PrivateKey.generate()


def _issue(
    key: blind_rsa.PrivateKey,
    msg: bytes,
    variant: blind_rsa.Variant = blind_rsa.RSABSSA_SHA384_PSS_RANDOMIZED,
) -> tuple[bytes, bytes]:
    """The whole protocol once: returns (prepared message, signature)."""
    prepared = blind_rsa.prepare(msg, variant=variant)
    blinded = blind_rsa.blind(key.public_key, prepared, variant=variant)
    blind_sig = blind_rsa.blind_sign(key, blinded.blinded_message)
    sig = blind_rsa.finalize(key.public_key, prepared, blind_sig, blinded.inverse, variant=variant)
    return prepared, sig


def test_vector_key_is_the_rfc_key(vector_key: blind_rsa.PrivateKey) -> None:
    assert vector_key.public_key.n == _N
    assert vector_key.public_key.e == 65537
    assert vector_key.public_key.modulus_len == 512


def test_vectors_cover_every_variant() -> None:
    assert {v.variant for v in _VECTORS} == set(blind_rsa.VARIANTS)


@pytest.mark.parametrize("vector", _VECTORS, ids=lambda v: v.variant.name)
def test_rfc9474_vector(vector: Vector, vector_key: blind_rsa.PrivateKey) -> None:
    public_key = vector_key.public_key
    variant = vector.variant
    # The vectors give inv = r^-1 mod n; blind() draws r itself, so feed it r back.
    r = pow(int.from_bytes(vector.inv, "big"), -1, _N)
    randomness = [vector.msg_prefix] if variant.randomized else []
    source = _pinned(*randomness, vector.salt, r.to_bytes(public_key.modulus_len, "big"))

    prepared = blind_rsa.prepare(_MSG, variant=variant, random_source=source)
    assert prepared == vector.msg_prefix + _MSG

    blinded = blind_rsa.blind(public_key, prepared, variant=variant, random_source=source)
    assert blinded.blinded_message == vector.blinded_msg
    assert blinded.inverse == vector.inv

    blind_sig = blind_rsa.blind_sign(vector_key, blinded.blinded_message)
    assert blind_sig == vector.blind_sig

    sig = blind_rsa.finalize(public_key, prepared, blind_sig, blinded.inverse, variant=variant)
    assert sig == vector.sig
    blind_rsa.verify(public_key, prepared, sig, variant=variant)


@pytest.mark.parametrize("vector", _VECTORS, ids=lambda v: v.variant.name)
def test_rfc9474_signature_needs_its_variants_salt_length(
    vector: Vector, vector_key: blind_rsa.PrivateKey
) -> None:
    # PSS and PSSZERO differ only in salt length; a verifier must not accept the other one.
    prepared = vector.msg_prefix + _MSG
    other = next(
        v
        for v in blind_rsa.VARIANTS
        if v.salt_length != vector.variant.salt_length and v.randomized == vector.variant.randomized
    )
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.verify(vector_key.public_key, prepared, vector.sig, variant=other)


def test_round_trip_with_hearths_variant(key: blind_rsa.PrivateKey) -> None:
    prepared, sig = _issue(key, b"age band attestation")
    assert len(prepared) == blind_rsa.PREFIX_LENGTH + len(b"age band attestation")
    assert len(sig) == 256
    blind_rsa.verify(key.public_key, prepared, sig)


@settings(max_examples=20, deadline=None)
@given(msg=st.binary(max_size=300), variant=st.sampled_from(blind_rsa.VARIANTS))
def test_round_trip_any_message_any_variant(
    key: blind_rsa.PrivateKey, msg: bytes, variant: blind_rsa.Variant
) -> None:
    prepared, sig = _issue(key, msg, variant)
    blind_rsa.verify(key.public_key, prepared, sig, variant=variant)


def test_blinding_hides_the_message(key: blind_rsa.PrivateKey) -> None:
    variant = blind_rsa.RSABSSA_SHA384_PSSZERO_DETERMINISTIC
    prepared = blind_rsa.prepare(b"same message", variant=variant)
    first = blind_rsa.blind(key.public_key, prepared, variant=variant)
    second = blind_rsa.blind(key.public_key, prepared, variant=variant)
    # Fresh r each time: the issuer sees unrelated values for the same message...
    assert first.blinded_message != second.blinded_message
    sig_one = blind_rsa.finalize(
        key.public_key,
        prepared,
        blind_rsa.blind_sign(key, first.blinded_message),
        first.inverse,
        variant=variant,
    )
    sig_two = blind_rsa.finalize(
        key.public_key,
        prepared,
        blind_rsa.blind_sign(key, second.blinded_message),
        second.inverse,
        variant=variant,
    )
    # ...yet both unblind to the one deterministic signature on that message.
    assert sig_one == sig_two


def test_randomized_variant_never_signs_the_same_input_twice(key: blind_rsa.PrivateKey) -> None:
    prepared_one, sig_one = _issue(key, b"same message")
    prepared_two, sig_two = _issue(key, b"same message")
    assert prepared_one != prepared_two
    assert sig_one != sig_two


def test_tampered_message_fails(key: blind_rsa.PrivateKey) -> None:
    prepared, sig = _issue(key, b"band=AGE_13_15")
    tampered = prepared[:-1] + bytes([prepared[-1] ^ 0x01])
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.verify(key.public_key, tampered, sig)


@pytest.mark.parametrize("position", [0, 100, 255])
def test_tampered_signature_fails(key: blind_rsa.PrivateKey, position: int) -> None:
    prepared, sig = _issue(key, b"band=AGE_13_15")
    tampered = bytearray(sig)
    tampered[position] ^= 0x80
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.verify(key.public_key, prepared, bytes(tampered))


@pytest.mark.parametrize("length", [0, 255, 257])
def test_signature_of_wrong_length_fails(key: blind_rsa.PrivateKey, length: int) -> None:
    prepared, sig = _issue(key, b"x")
    wrong = (sig + b"\x00")[:length] if length else b""
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.verify(key.public_key, prepared, wrong)


def test_signature_under_another_key_fails(
    key: blind_rsa.PrivateKey, other_key: blind_rsa.PrivateKey
) -> None:
    prepared, sig = _issue(other_key, b"band=AGE_18_PLUS")
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.verify(key.public_key, prepared, sig)


def test_finalize_refuses_a_blind_signature_from_the_wrong_key(
    key: blind_rsa.PrivateKey, other_key: blind_rsa.PrivateKey
) -> None:
    prepared = blind_rsa.prepare(b"m")
    blinded = blind_rsa.blind(key.public_key, prepared)
    # The other key refuses values above its own modulus; re-blind until it will sign.
    while int.from_bytes(blinded.blinded_message, "big") >= other_key.public_key.n:
        blinded = blind_rsa.blind(key.public_key, prepared)
    wrong = blind_rsa.blind_sign(other_key, blinded.blinded_message)
    with pytest.raises(blind_rsa.InvalidSignature):
        blind_rsa.finalize(key.public_key, prepared, wrong, blinded.inverse)


@pytest.mark.parametrize("offset", [0, 1, 12345])
def test_blinded_message_at_or_above_the_modulus_is_refused(
    key: blind_rsa.PrivateKey, offset: int
) -> None:
    n = key.public_key.n
    blinded = (n + offset).to_bytes(key.public_key.modulus_len, "big")
    with pytest.raises(blind_rsa.MessageOutOfRange, match="not smaller than the key's modulus"):
        blind_rsa.blind_sign(key, blinded)


def test_largest_blinded_message_below_the_modulus_is_signed(key: blind_rsa.PrivateKey) -> None:
    n = key.public_key.n
    blind_sig = blind_rsa.blind_sign(key, (n - 1).to_bytes(256, "big"))
    # (n-1)^d = (-1)^d = -1 mod n, since d is odd.
    assert int.from_bytes(blind_sig, "big") == n - 1


@pytest.mark.parametrize("length", [0, 32, 255, 257])
def test_blinded_message_of_wrong_length_is_refused(key: blind_rsa.PrivateKey, length: int) -> None:
    with pytest.raises(blind_rsa.InvalidInput, match="must be 256 bytes"):
        blind_rsa.blind_sign(key, b"\x01" * length)


def test_blind_sign_uses_constant_time_powmod_with_crt(
    key: blind_rsa.PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    moduli: list[int] = []
    real = gmpy2.powmod_sec

    def spy(base: Any, exponent: Any, modulus: Any) -> Any:
        moduli.append(int(modulus))
        return real(base, exponent, modulus)

    monkeypatch.setattr(gmpy2, "powmod_sec", spy)
    blinded = blind_rsa.blind(key.public_key, blind_rsa.prepare(b"m"))
    moduli.clear()
    blind_rsa.blind_sign(key, blinded.blinded_message)
    # Two half-size exponentiations, one per prime, and nothing else secret.
    assert len(moduli) == 2
    assert moduli[0] * moduli[1] == key.public_key.n


def test_blind_sign_withholds_a_faulty_signature(
    key: blind_rsa.PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    blinded = blind_rsa.blind(key.public_key, blind_rsa.prepare(b"m"))
    honest = key._rsasp1
    monkeypatch.setattr(key, "_rsasp1", lambda m: honest(m) ^ 1)
    with pytest.raises(blind_rsa.SigningFailure):
        blind_rsa.blind_sign(key, blinded.blinded_message)


def test_finalize_rejects_inputs_of_wrong_length(key: blind_rsa.PrivateKey) -> None:
    prepared = blind_rsa.prepare(b"m")
    blinded = blind_rsa.blind(key.public_key, prepared)
    blind_sig = blind_rsa.blind_sign(key, blinded.blinded_message)
    with pytest.raises(blind_rsa.InvalidInput, match="blind signature"):
        blind_rsa.finalize(key.public_key, prepared, blind_sig[1:], blinded.inverse)
    with pytest.raises(blind_rsa.InvalidInput, match="inverse"):
        blind_rsa.finalize(key.public_key, prepared, blind_sig, blinded.inverse[1:])


def test_public_key_der_round_trip_and_key_id(
    key: blind_rsa.PrivateKey, other_key: blind_rsa.PrivateKey
) -> None:
    der = key.public_key.to_der()
    loaded = blind_rsa.PublicKey.from_der(der)
    assert loaded == key.public_key
    assert loaded.key_id == key.public_key.key_id == hashlib.sha256(der).digest()
    assert other_key.public_key.key_id != key.public_key.key_id
    # A signature made under the original verifies under the reloaded key.
    prepared, sig = _issue(key, b"m")
    blind_rsa.verify(loaded, prepared, sig)


def test_private_key_pem_round_trip(key: blind_rsa.PrivateKey) -> None:
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    loaded = blind_rsa.PrivateKey.from_pem(pem)
    assert loaded.public_key == key.public_key
    prepared, sig = _issue(loaded, b"m")
    blind_rsa.verify(key.public_key, prepared, sig)


def test_private_key_pem_with_password(key: blind_rsa.PrivateKey) -> None:
    pem = key.to_pem(password=b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert blind_rsa.PrivateKey.from_pem(pem, b"correct horse").public_key == key.public_key
    with pytest.raises(blind_rsa.InvalidKey):
        blind_rsa.PrivateKey.from_pem(pem, b"wrong")
    with pytest.raises(blind_rsa.InvalidKey):
        blind_rsa.PrivateKey.from_pem(pem)


def test_garbage_and_foreign_keys_are_refused() -> None:
    with pytest.raises(blind_rsa.InvalidKey):
        blind_rsa.PublicKey.from_der(b"not a key")
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_der = ed.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(blind_rsa.InvalidKey, match="not an RSA key"):
        blind_rsa.PublicKey.from_der(ed_der)
    ed_pem = ed.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(blind_rsa.InvalidKey, match="not an RSA key"):
        blind_rsa.PrivateKey.from_pem(ed_pem)


def test_weak_keys_are_refused() -> None:
    with pytest.raises(blind_rsa.InvalidKey, match="at least 2048"):
        blind_rsa.PrivateKey.generate(1024)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(blind_rsa.InvalidKey, match="at least 2048"):
        blind_rsa.PublicKey(small.public_key())
    with pytest.raises(blind_rsa.InvalidKey, match="exponent"):
        blind_rsa.PublicKey(rsa.RSAPublicNumbers(3, _N).public_key())


def test_errors_share_one_base_class() -> None:
    for error in (
        blind_rsa.InvalidKey,
        blind_rsa.InvalidInput,
        blind_rsa.MessageOutOfRange,
        blind_rsa.EncodingError,
        blind_rsa.SigningFailure,
        blind_rsa.InvalidSignature,
    ):
        assert issubclass(error, blind_rsa.BlindSignatureError)
