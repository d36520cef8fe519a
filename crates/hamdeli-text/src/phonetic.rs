//! A phonetic key for Persian names: spellings that sound alike get one key.
//!
//! Built on [`name_key`] (so Arabic letter forms, diacritics, ZWNJ and spaces are already folded):
//!
//! 1. letters that are pronounced alike in Persian fold to one: ث س ص → س; ذ ز ض ظ ژ → ز;
//!    ت ط → ت; ح ه → ه; ق غ → ق; ع ء ا → ا;
//! 2. the four Persian letters that an Arabic keyboard lacks fold to their Arabic base
//!    (پ → ب, چ → ج, ژ → ز, گ → ک), as old data typed on such keyboards has them so;
//! 3. the alef class (ا, ع, ء) is kept only as the first letter: elsewhere it is a long vowel or a
//!    glottal stop that spellings disagree on (اسماعیل / اسمائیل / اسمعیل); و and ی are kept,
//!    as they are often consonants (وحید، یوسف، سیاوش);
//! 4. repeated letters collapse (داوود / داود, الله / اله);
//! 5. everything that is not a letter (digits, punctuation, combining marks) is dropped; Latin letters are kept
//!    lowercase.
//!
//! The key is evidence for record linkage, not an identity: clearly different names keep
//! different keys ("مریم" / "مرضیه"), but some unrelated names may share one.

use unicode_normalization::char::is_combining_mark;

use unicode_normalization::is_nfkc;

use crate::normalize::{is_simple, name_key, name_key_inner};

const ALEF: char = 'ا';

/// The sound class of a letter, `None` for a non-letter.
/// [`sound_class_slow`] for the Arabic block, `'\0'` for `None`; built at compile time.
static ARABIC_BLOCK_SOUND: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(c) = char::from_u32(0x0600 + i as u32)
            && is_simple(c)
            && let Some(k) = sound_class_letter(c)
        {
            table[i] = k;
        }
        i += 1;
    }
    table
};

#[inline]
fn sound_class(c: char) -> Option<char> {
    let u = c as u32;
    if u < 0x80 {
        return c.is_ascii_alphabetic().then_some(c);
    }
    if (0x0600..0x0700).contains(&u) && is_simple(c) {
        return match ARABIC_BLOCK_SOUND[(u - 0x0600) as usize] {
            '\0' => None,
            k => Some(k),
        };
    }
    sound_class_slow(c)
}

/// The class of the Persian letters that fold (rules 1–2), `None` for others.
const fn sound_class_letter(c: char) -> Option<char> {
    Some(match c {
        'ث' | 'س' | 'ص' => 'س',
        'ذ' | 'ز' | 'ض' | 'ظ' | 'ژ' => 'ز',
        'ت' | 'ط' => 'ت',
        'ح' | 'ه' => 'ه',
        'ق' | 'غ' => 'ق',
        'ع' | 'ء' | 'ا' => ALEF,
        'پ' => 'ب',
        'چ' => 'ج',
        'گ' => 'ک',
        // Other Persian letters stay; marks, tatweel and digits of the block do not.
        '\u{0621}'..='\u{063A}'
        | '\u{0641}'..='\u{064A}'
        | '\u{06A9}'
        | '\u{06C0}'
        | '\u{06CC}' => c,
        _ => return None,
    })
}

fn sound_class_slow(c: char) -> Option<char> {
    Some(match c {
        'ث' | 'س' | 'ص' => 'س',
        'ذ' | 'ز' | 'ض' | 'ظ' | 'ژ' => 'ز',
        'ت' | 'ط' => 'ت',
        'ح' | 'ه' => 'ه',
        'ق' | 'غ' => 'ق',
        'ع' | 'ء' | 'ا' => ALEF,
        'پ' => 'ب',
        'چ' => 'ج',
        'گ' => 'ک',
        c if c.is_alphabetic() && !is_combining_mark(c) => c,
        _ => return None,
    })
}

/// The phonetic key of a Persian name (see the module documentation for the rules).
///
/// ```
/// use hamdeli_text::phonetic_key;
/// assert_eq!(phonetic_key("اسماعیل"), phonetic_key("اسمائیل"));
/// assert_eq!(phonetic_key("طاهره"), phonetic_key("تاهره"));
/// assert_ne!(phonetic_key("مریم"), phonetic_key("مرضیه"));
/// ```
pub fn phonetic_key(s: &str) -> String {
    let (key, simple) = name_key_inner(s);
    let mut out = fold(&key);
    if simple {
        return out;
    }
    // Dropping characters can make the rest compose differently under NFKC (rare, non-Persian
    // scripts); fold again until stable so the key is idempotent.
    let mut rounds = 0;
    while rounds < 8 && !is_nfkc(&out) {
        out = fold(&name_key(&out));
        rounds += 1;
    }
    out
}

/// Steps 1–5 on a name key.
fn fold(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut last: Option<char> = None;
    for c in key.chars() {
        let Some(class) = sound_class(c) else {
            continue;
        };
        if class == ALEF && last.is_some() {
            continue;
        }
        if last == Some(class) {
            continue;
        }
        out.push(class);
        last = Some(class);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(phonetic_key(a), phonetic_key(b), "{a} / {b}");
    }

    fn differ(a: &str, b: &str) {
        assert_ne!(phonetic_key(a), phonetic_key(b), "{a} / {b}");
    }

    #[test]
    fn spelling_variants_collide() {
        same("اسماعیل", "اسمائیل");
        same("اسماعیل", "اسمعیل");
        same("طاهره", "تاهره");
        same("زهرا", "ظهرا");
        same("داوود", "داود");
        same("عبدالله", "عبد الله");
        same("عبدالله", "عبداله");
        same("محمّد", "مهمد");
        same("ثریا", "سریا");
        same("صدیقه", "سدیقه");
        same("ذبیح الله", "زبیح‌اله");
        same("رضا", "رظا");
        same("قلامرضا", "غلامرضا");
        same("عباس", "اباس");
        same("پروین", "بروین");
        same("گلناز", "کلناز");
        same("علي", "علی");
        same("فاطمة", "فاطمه");
        same("مسئول", "مسيول");
        same("ﻣﺤﻤﺪ", "محمد");
    }

    #[test]
    fn different_names_differ() {
        differ("مریم", "مرضیه");
        differ("زهرا", "زهره");
        differ("علی", "الهه");
        differ("سوسن", "سینا");
        differ("حسن", "حسین");
        differ("محمد", "محمود");
        differ("فاطمه", "فریده");
        differ("رضا", "رزیتا");
        differ("وحید", "حمید");
        differ("یوسف", "یونس");
    }

    #[test]
    fn shape() {
        assert_eq!(phonetic_key(""), "");
        assert_eq!(phonetic_key("123 -"), "");
        assert_eq!(phonetic_key("آرش"), "ارش");
        assert_eq!(phonetic_key("عباس"), "ابس");
        assert_eq!(phonetic_key("Ali"), "ali");
    }
}
