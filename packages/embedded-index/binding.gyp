# The graph addon (native/arena-graph.cpp) over usearch's headers and NumKong's kernels, as in
# usearch's own binding.gyp. native/build.mjs links native/usearch to the installed usearch
# package first (gyp's includes take no commands), and writes its headers with one fix to
# native/patched (native/usearch-patch.mjs), which come first.
{
    "variables": {
        "numkong_root": "native/usearch/numkong",
    },
    "includes": ["native/usearch/numkong/numkong.gypi"],
    "targets": [
        {
            "target_name": "arena_graph",
            "sources": ["native/arena-graph.cpp"],
            # node-addon-api is used for its headers alone (NAPI_CPP_EXCEPTIONS is defined in the
            # source): depending on its gyp target would write a makefile outside build/.
            "dependencies": ["numkong_lib"],
            "cflags": ["-fexceptions", "-Wno-unknown-pragmas", "-Wno-maybe-uninitialized"],
            "cflags_cc": [
                "-fexceptions",
                "-Wno-unknown-pragmas",
                "-Wno-maybe-uninitialized",
                "-std=c++17",
                "-O3",
            ],
            "include_dirs": [
                "<!@(node -p \"require('node-addon-api').include\")",
                "native/patched",
                "native/usearch/include",
                "native/usearch/numkong/include",
            ],
            "defines": ["USEARCH_USE_NUMKONG=1", "NK_DYNAMIC_DISPATCH=1", "USEARCH_USE_OPENMP=0"],
        }
    ],
}
