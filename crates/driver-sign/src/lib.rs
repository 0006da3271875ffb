//! Driver package signing (skeleton).
