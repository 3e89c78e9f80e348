# One precompiled header for every target of ours: the QtCore and standard headers that
# nearly every file includes, parsed once per build instead of once per file (a third
# of a core file's CPU at -O0). GCC uses it only where the macros it was built with are
# defined alike (CMake adds -Winvalid-pch, an error under -Werror), so target sb_pch
# builds it with QtCore's alone and the others reuse it (REUSE_FROM): extra macros such
# as QT_WIDGETS_LIB are fine while the header never reads them. No Widgets (core/ must
# not see them, DESIGN.md) and no <QTest>: its macros name each test's folder, and a
# header per folder costs more than it saves. Off in the fuzz build, whose libraries
# carry other sanitizer flags than sb_pch. -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON turns
# it off, e.g. to check that a file includes what it uses.
if(NOT SB_BUILD_FUZZ)
    # A target needs a C++ source of its own to build a header.
    file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/sb_pch.cpp CONTENT "// Builds sb_pch.\n")
    add_library(sb_pch OBJECT ${PROJECT_BINARY_DIR}/sb_pch.cpp)
    set_target_properties(sb_pch PROPERTIES AUTOMOC OFF AUTOUIC OFF AUTORCC OFF)
    target_link_libraries(sb_pch PRIVATE Qt6::Core)
    target_precompile_headers(sb_pch PRIVATE <QByteArray> <QByteArrayView> <QHash> <QList>
        <QObject> <QString> <QStringList> <algorithm> <chrono> <functional> <memory>
        <optional> <unordered_map> <vector>)
endif()

# sb_precompile(target): a library or executable of ours.
function(sb_precompile target)
    if(TARGET sb_pch)
        target_precompile_headers(${target} REUSE_FROM sb_pch)
    endif()
endfunction()

# sb_precompile_test(target): a test, whose .cpp includes its own moc output, so that
# AUTOMOC's file is empty and needs no header.
function(sb_precompile_test target)
    sb_precompile(${target})
    set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/${target}_autogen/mocs_compilation.cpp
        PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
endfunction()
