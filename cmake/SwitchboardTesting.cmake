# sb_add_test(NAME tst_parser SOURCES ... LIBS ... LABEL unit [TIMEOUT s])
# One Qt Test class per executable, registered with CTest under its label.
function(sb_add_test)
    cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE Qt6::Test ${T_LIBS})
    sb_precompile_test(${T_NAME})
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;SB_SOURCE_DIR=${PROJECT_SOURCE_DIR};SB_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
