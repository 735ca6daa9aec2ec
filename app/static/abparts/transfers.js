// The stock transfer form: type-ahead lookups (Select2 with AJAX, bundled by
// Flask-AppBuilder) and lines added or removed in place.
(function ($) {
  "use strict";

  function lookup(select) {
    var $select = $(select);
    $select.select2({
      ajax: {
        url: $select.data("url"),
        dataType: "json",
        delay: 200,
        data: function (params) { return { q: params.term || "" }; }
      },
      placeholder: $select.data("placeholder") || "Type to search",
      minimumInputLength: 0,
      width: "100%"
    });
  }

  $(function () {
    var $body = $("#transfer-lines tbody");
    // The blank line is cloned before Select2 decorates the page: a clone of a
    // decorated select would stay bound to the original's Select2.
    var $template = $body.find("tr.transfer-line").first().clone();
    $template.find("select").empty();
    $template.find("input").val("");
    $(".abparts-lookup").each(function () { lookup(this); });

    $("#add-line").on("click", function () {
      var $row = $template.clone();
      $body.append($row);
      lookup($row.find("select")[0]);
    });
    $body.on("click", ".remove-line", function () {
      if ($body.find("tr.transfer-line").length > 1) {
        $(this).closest("tr").remove();
      }
    });
  });
})(jQuery);
