//! Strings many objects share (a kind, an API version, a namespace): one copy per run.

use std::sync::Arc;

/// A shared string; the index keeps one copy of each per run. One pointer wide (the text is
/// behind it), since every object and finding holds a few.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared(Arc<Box<str>>);

impl Shared {
    pub fn new(s: &str) -> Shared {
        Shared(Arc::new(Box::from(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Shared {
    /// `s` as a shared string, from the thread's recent ones when it is one of them: objects
    /// read one after the other repeat the same kinds, API versions and namespaces.
    pub fn recent(s: &str) -> Shared {
        thread_local! {
            static RECENT: std::cell::RefCell<Vec<Shared>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        RECENT.with_borrow_mut(|list| recent(list, s, Shared::as_str, Shared::new))
    }
}

/// The entry of `list` whose text is `s`, or a new one made of it: a short list of recently
/// used strings, the most recent last.
pub fn recent<T: Clone>(list: &mut Vec<T>, s: &str, text: fn(&T) -> &str, make: fn(&str) -> T) -> T {
    const LENGTH: usize = 64;
    if let Some(i) = list.iter().position(|e| text(e) == s) {
        let found = list.remove(i);
        list.push(found.clone());
        return found;
    }
    if list.len() == LENGTH {
        list.remove(0);
    }
    let new = make(s);
    list.push(new.clone());
    new
}
