//! TEMPORARY STUB (replaced by the real cleaning stage).
use std::path::Path;
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    #[error("invalid pattern {pattern}: {reason}")]
    Pattern { pattern: String, reason: String },
}
#[derive(Debug, Clone, Default)]
pub struct OffsetMap;
impl OffsetMap { pub fn to_raw(&self, b: usize) -> usize { b } }
#[derive(Debug, Clone, Default)]
pub struct CleanRules { dedupe: bool }
pub struct Cleaned { pub text: String, pub title: Option<String>, pub dropped_lines: usize, pub duplicate_lines: usize, pub map: OffsetMap }
impl CleanRules {
    pub fn clean(&self, raw: &str) -> Cleaned {
        let text = raw.trim().to_string();
        let title = text.lines().next().map(str::to_string);
        Cleaned { text, title, dropped_lines: 0, duplicate_lines: 0, map: OffsetMap }
    }
    pub fn with_drop_patterns(self, _p: &[String]) -> Result<Self, CleanError> { Ok(self) }
    pub fn from_file(_p: &Path) -> Result<Self, CleanError> { Ok(Self::default()) }
    pub fn dedupe_lines(mut self, on: bool) -> Self { self.dedupe = on; self }
}
