// Relation choices on demand (app/views/choices.py): every select.abparts-choices
// becomes a Select2 box that asks its data-choices-url as the user types.
// FAB's ab.js only knows whole-table selects; its filter script (ab_filters.js)
// builds the list's filter rows later, so new selects are picked up as they appear.
(function ($) {
    "use strict";

    function enhance(select) {
        var $select = $(select);
        if ($select.data("select2") || !document.body.contains(select)) {
            return;
        }
        $select.select2({
            theme: "bootstrap",
            width: "100%",
            allowClear: $select.data("allow-clear") === true,
            placeholder: $select.data("placeholder") || "",
            ajax: {
                url: $select.data("choices-url"),
                dataType: "json",
                delay: 250,
                data: function (params) {
                    return {q: params.term || "", page: params.page || 1};
                },
                processResults: function (data) {
                    return {results: data.results, pagination: {more: data.more}};
                }
            }
        });
    }

    function enhanceAll(root) {
        $(root).find("select.abparts-choices").addBack("select.abparts-choices").each(function () {
            enhance(this);
        });
    }

    $(function () {
        enhanceAll(document.body);
        new MutationObserver(function (mutations) {
            mutations.forEach(function (mutation) {
                mutation.addedNodes.forEach(function (node) {
                    if (node.nodeType === 1) {
                        enhanceAll(node);
                    }
                });
            });
        }).observe(document.body, {childList: true, subtree: true});
    });
})(jQuery);
