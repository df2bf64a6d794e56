fn __x() { let _: u32 = "a"; }
