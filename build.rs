fn main() {
    // Only the Node addon needs napi's link arguments; the plain core builds without them.
    #[cfg(feature = "node")]
    napi_build::setup();
}
