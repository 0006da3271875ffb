//! ndis-host: a user-mode NDIS for running a real miniport image on Linux.
