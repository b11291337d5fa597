//! ipvsadm command-line parsing: popt grammar, option table, validation in ipvsadm order.
