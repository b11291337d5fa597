//! ipvsadm output formats, byte for byte.
