//! A fixed-capacity list that encodes like a postcard sequence and refuses more than `N`
//! elements when decoding, so a lock can parse lists with no heap and a hard bound.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use serde::de::DeserializeSeed;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DecodeInPlace;

/// Up to `N` values of `T`, stored inline. Equality and hashing look only at the stored
/// values, never at what is left in unused slots.
#[derive(Clone, Copy)]
pub struct Bounded<T: Copy + Default, const N: usize> {
    len: usize,
    items: [T; N],
}

impl<T: Copy + Default, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Bounded {
            len: 0,
            items: [T::default(); N],
        }
    }
}

impl<T: Copy + Default, const N: usize> Bounded<T, N> {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies `items` into a new list, or `None` if there are more than `N`.
    pub fn from_slice(items: &[T]) -> Option<Self> {
        let mut list = Self::new();
        for item in items {
            list.push(*item).ok()?;
        }
        Some(list)
    }

    /// Appends `item`, handing it back if the list is full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                Ok(())
            }
            None => Err(item),
        }
    }

    /// The stored values.
    pub fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    /// The stored values, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.items.iter_mut().take(self.len)
    }

    /// Keeps only the values for which `keep` is true, in order. A kept value is swapped
    /// forward between disjoint borrows, so no overlapping copy (`memmove`) is linked.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut kept = 0;
        for i in 0..self.len {
            let Some((front, back)) = self.items.split_at_mut_checked(i) else {
                break;
            };
            let Some(item) = back.first_mut() else {
                break;
            };
            if keep(item) {
                if let Some(slot) = front.get_mut(kept) {
                    core::mem::swap(slot, item);
                }
                kept += 1;
            }
        }
        self.len = kept;
    }

    /// Removes every value.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Number of stored values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for Bounded<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for Bounded<T, N> {}

impl<T: Copy + Default + Hash, const N: usize> Hash for Bounded<T, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<T: Copy + Default + fmt::Debug, const N: usize> fmt::Debug for Bounded<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<T: Copy + Default + Serialize, const N: usize> Serialize for Bounded<T, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for item in self.as_slice() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<T: Copy + Default + for<'de> Deserialize<'de>, const N: usize> DecodeInPlace
    for Bounded<T, N>
{
    fn decode_in_place<'de, D: Deserializer<'de>>(&mut self, d: D) -> Result<(), D::Error> {
        SeedInto::new(self, PhantomData::<T>).deserialize(d)
    }
}

/// A seed that decodes a list into a [`Bounded`], each element with `seed`: how a persisted
/// table is read whatever layout of its elements was written, with one list decoder per table.
pub(crate) struct SeedInto<'a, T: Copy + Default, const N: usize, S> {
    list: &'a mut Bounded<T, N>,
    seed: S,
}

impl<'a, T: Copy + Default, const N: usize, S> SeedInto<'a, T, N, S> {
    /// Decodes into `list`, each element with `seed`.
    pub(crate) fn new(list: &'a mut Bounded<T, N>, seed: S) -> Self {
        SeedInto { list, seed }
    }
}

impl<'de, T: Copy + Default, const N: usize, S: DeserializeSeed<'de, Value = T> + Copy>
    DeserializeSeed<'de> for SeedInto<'_, T, N, S>
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Copy + Default, const N: usize, S: DeserializeSeed<'de, Value = T> + Copy> Visitor<'de>
    for SeedInto<'_, T, N, S>
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at most {N} elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Check the declared length before reading anything so an oversize list is refused
        // without touching its elements.
        if let Some(n) = seq.size_hint().filter(|&n| n > N) {
            return Err(de::Error::invalid_length(n, &self));
        }
        self.list.clear();
        while let Some(item) = seq.next_element_seed(self.seed)? {
            if self.list.push(item).is_err() {
                return Err(de::Error::invalid_length(N + 1, &self));
            }
        }
        Ok(())
    }
}

impl<'de, T: Copy + Default + for<'a> Deserialize<'a>, const N: usize> Deserialize<'de>
    for Bounded<T, N>
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut list = Bounded::new();
        list.decode_in_place(deserializer)?;
        Ok(list)
    }
}
